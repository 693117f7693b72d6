package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/keylessdev/keyless/internal/store"
)

// Writer defaults.
const (
	DefaultMaxBatch      = 256
	DefaultQueueSize     = 4096
	DefaultCommitTimeout = 10 * time.Second
	// DefaultLinger is the default WriterOptions.Linger.
	DefaultLinger = 500 * time.Microsecond
)

var (
	// ErrClosed: Record was called after Close.
	ErrClosed = errors.New("audit: writer closed")
	// ErrNoDestination: the Writer has neither a Store nor a Sink, so no
	// event can be recorded.
	ErrNoDestination = errors.New("audit: writer has no store and no sink")
	// ErrSink: writing to the JSON-lines sink failed.
	ErrSink = errors.New("audit: sink write failed")
)

// WriterOptions configures a Writer. At least one of Store and Sink is needed.
type WriterOptions struct {
	Store         store.Store   // durable destination; may be nil
	Sink          io.Writer     // JSON lines, one event per line; may be nil; not fsynced
	MaxBatch      int           // events per commit; default DefaultMaxBatch
	QueueSize     int           // pending events before Record blocks; default DefaultQueueSize
	CommitTimeout time.Duration // bound on one store commit; default DefaultCommitTimeout
	Logger        *slog.Logger  // default: discard
	// Linger bounds how long a commit waits for more events when the previous batch
	// held more than one (concurrent decisions are arriving): a larger batch shares one
	// fsync among more events, which is most of an audited exchange's CPU cost. A lone
	// decision never waits. Zero means DefaultLinger; negative disables it.
	Linger time.Duration
	// OnCommit, when set, is called from the writer goroutine after each
	// batch with the number of events recorded and the commit latency.
	OnCommit func(n int, d time.Duration)
}

// Writer records events with group commit. It is safe for concurrent use.
type Writer struct {
	opts  WriterOptions
	queue chan *pending
	done  chan struct{}

	mu      sync.RWMutex // guards closed; held for reading while registering a sender
	closed  bool
	senders sync.WaitGroup // Records between the closed check and the enqueue

	flushErr error // set by run for commits after Close began; read after done
}

type pending struct {
	rec    store.AuditRecord
	result chan error // buffered: run never blocks on an abandoned waiter
	err    error
}

// NewWriter starts a Writer. Close it to flush and stop its goroutine.
func NewWriter(opts WriterOptions) *Writer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.CommitTimeout <= 0 {
		opts.CommitTimeout = DefaultCommitTimeout
	}
	if opts.Linger == 0 {
		opts.Linger = DefaultLinger
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Writer{
		opts:  opts,
		queue: make(chan *pending, opts.QueueSize),
		done:  make(chan struct{}),
	}
	go w.run()
	return w
}

// Record validates ev, enqueues it and waits until the batch holding it is
// committed to the store and written to the sink. It returns nil only when
// the event reached every configured destination; callers must refuse the
// decision otherwise. If ctx ends first Record returns its error, and the
// event may still be recorded later. A full queue blocks Record
// (back-pressure) until there is room or ctx ends.
func (w *Writer) Record(ctx context.Context, ev Event) error {
	if w.opts.Store == nil && w.opts.Sink == nil {
		return ErrNoDestination
	}
	rec, err := encode(ev)
	if err != nil {
		return err
	}
	p := &pending{rec: rec, result: make(chan error, 1)}

	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		w.mu.RUnlock()
		return fmt.Errorf("audit: %w", err)
	}
	w.senders.Add(1)
	w.mu.RUnlock()
	select {
	case w.queue <- p:
		w.senders.Done()
	case <-ctx.Done():
		w.senders.Done()
		return fmt.Errorf("audit: waiting for queue space: %w", ctx.Err())
	}

	select {
	case err := <-p.result:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit: waiting for commit: %w", ctx.Err())
	}
}

// QueueDepth reports the number of events waiting for a commit.
func (w *Writer) QueueDepth() int { return len(w.queue) }

// Close stops accepting events, commits every event already enqueued, and
// stops the writer goroutine. It returns the errors of those final commits.
// Later Records return ErrClosed; Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	w.senders.Wait() // no sender can still be about to enqueue
	close(w.queue)
	<-w.done
	return w.flushErr
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]*pending, 0, w.opts.MaxBatch)
	var timer *time.Timer
	prev := 0
	for p := range w.queue {
		batch = append(batch[:0], p)
		open := w.drain(&batch)
		if open && prev > 1 && w.opts.Linger > 0 && len(batch) < w.opts.MaxBatch {
			if timer == nil {
				timer = time.NewTimer(w.opts.Linger)
			} else {
				timer.Reset(w.opts.Linger)
			}
		linger:
			for len(batch) < w.opts.MaxBatch {
				select {
				case p, ok := <-w.queue:
					if !ok {
						break linger
					}
					batch = append(batch, p)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		prev = len(batch)
		w.commit(batch)
		for _, p := range batch {
			p.result <- p.err
		}
		clear(batch)
	}
}

// drain appends queued events without waiting; it reports false once the queue is
// closed.
func (w *Writer) drain(batch *[]*pending) bool {
	for len(*batch) < w.opts.MaxBatch {
		select {
		case p, ok := <-w.queue:
			if !ok {
				return false
			}
			*batch = append(*batch, p)
		default:
			return true
		}
	}
	return true
}

// commit records batch, setting each pending's err.
func (w *Writer) commit(batch []*pending) {
	start := time.Now()
	if w.opts.Store != nil {
		w.appendAll(batch)
	}
	if w.opts.Sink != nil {
		w.writeSink(batch)
	}
	n := 0
	for _, p := range batch {
		if p.err == nil {
			n++
		} else {
			w.mu.RLock()
			if w.closed && w.flushErr == nil {
				w.flushErr = p.err
			}
			w.mu.RUnlock()
		}
	}
	if n < len(batch) {
		w.opts.Logger.Error("audit events not recorded", "failed", len(batch)-n, "batch", len(batch), "err", firstErr(batch))
	}
	if n > 0 && w.opts.OnCommit != nil {
		w.opts.OnCommit(n, time.Since(start))
	}
}

// appendAll stores the batch in one transaction. If that fails with a
// conflict (a duplicate decision id), it retries event by event so one bad
// event cannot fail its neighbours.
func (w *Writer) appendAll(batch []*pending) {
	recs := make([]store.AuditRecord, len(batch))
	for i, p := range batch {
		recs[i] = p.rec
	}
	err := w.append(recs)
	if err == nil || !errors.Is(err, store.ErrConflict) || len(batch) == 1 {
		for _, p := range batch {
			p.err = err
		}
		return
	}
	for i, p := range batch {
		p.err = w.append(recs[i : i+1])
	}
}

func (w *Writer) append(recs []store.AuditRecord) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.CommitTimeout)
	defer cancel()
	if err := w.opts.Store.AppendAudit(ctx, recs); err != nil {
		return fmt.Errorf("audit: commit: %w", err)
	}
	return nil
}

// writeSink writes the committed events of batch as JSON lines in one Write.
func (w *Writer) writeSink(batch []*pending) {
	var buf bytes.Buffer
	for _, p := range batch {
		if p.err == nil {
			buf.Write(p.rec.Data)
			buf.WriteByte('\n')
		}
	}
	if buf.Len() == 0 {
		return
	}
	if _, err := w.opts.Sink.Write(buf.Bytes()); err != nil {
		err = fmt.Errorf("%w: %w", ErrSink, err)
		for _, p := range batch {
			if p.err == nil {
				p.err = err
			}
		}
	}
}

func firstErr(batch []*pending) error {
	for _, p := range batch {
		if p.err != nil {
			return p.err
		}
	}
	return nil
}

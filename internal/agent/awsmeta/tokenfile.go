package awsmeta

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// maxAuthTokenLen bounds the token (EKS Pod Identity tokens are ~1-2 KB JWTs).
const maxAuthTokenLen = 16 << 10

// Reasons a token value is unusable.
var (
	errTokenEmpty    = errors.New("token is empty")
	errTokenTooLarge = fmt.Errorf("token is longer than %d bytes", maxAuthTokenLen)
	errTokenNewline  = errors.New("token contains CR or LF (AWS SDKs refuse to send it; write the file without a trailing newline)")
	errTokenBadChar  = errors.New("token contains a byte that is not printable ASCII")
	errTokenSpace    = errors.New("token has leading or trailing space (HTTP strips it in transit)")
)

// checkAuthToken accepts what an SDK can send verbatim as a header value.
func checkAuthToken(t []byte) error {
	switch {
	case len(t) == 0:
		return errTokenEmpty
	case len(t) > maxAuthTokenLen:
		return errTokenTooLarge
	}
	for _, c := range t {
		switch {
		case c == '\r' || c == '\n':
			return errTokenNewline
		case c != ' ' && c != '\t' && (c < 0x21 || c > 0x7e):
			return errTokenBadChar
		}
	}
	if t[0] == ' ' || t[0] == '\t' || t[len(t)-1] == ' ' || t[len(t)-1] == '\t' {
		return errTokenSpace
	}
	return nil
}

// fileToken reads the expected token from a file, again whenever the file's
// identity, size or modification time changes.
type fileToken struct {
	path string
	log  *slog.Logger

	mu     sync.Mutex
	info   os.FileInfo // of the content behind sum; nil until a good read
	sum    [sha256.Size]byte
	failed bool // last read failed (log the recovery)
}

func (f *fileToken) digest() ([sha256.Size]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err == nil && f.info != nil && sameVersion(f.info, st) {
		return f.sum, nil
	}
	if err == nil {
		err = f.reload()
	}
	if err != nil {
		// Fail closed: a stale digest could outlive a revoked token.
		f.info = nil
		f.failed = true
		return [sha256.Size]byte{}, fmt.Errorf("%w: %s: %w", ErrAuthTokenUnavailable, f.path, err)
	}
	if f.failed {
		f.log.Info("container: authorization token file readable again", "path", f.path)
		f.failed = false
	}
	return f.sum, nil
}

// reload reads the file through one descriptor so that the recorded identity
// matches the content read.
func (f *fileToken) reload() error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxAuthTokenLen+1))
	if err != nil {
		return err
	}
	if err := checkAuthToken(b); err != nil {
		return err
	}
	f.info, f.sum = st, sha256.Sum256(b)
	return nil
}

func sameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) &&
		!a.ModTime().After(time.Now().Add(-time.Second)) // recent writes may share an mtime tick: re-read
}

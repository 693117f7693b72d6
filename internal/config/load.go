package config

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// Load reads a config file (at most MaxFileSize bytes) and returns it parsed and validated.
// When anything is wrong it returns a nil config and Problems listing every problem at once,
// each naming the file, line, column and field path. Errors reading the file are returned
// wrapped (errors.Is(err, fs.ErrNotExist) works). Load does not apply defaults.
func Load(path string) (*Config, error) { return LoadWith(path, nil) }

// LoadBytes is Load for a document already in memory (standard input, an admin API body);
// filename is used in messages.
func LoadBytes(data []byte, filename string) (*Config, error) {
	return LoadBytesWith(data, filename, nil)
}

// Checker reports semantic problems (CEL compile errors, IAM policy errors) that the
// config package cannot see; their paths are located in the file like structural ones.
type Checker func(*Config) Problems

// LoadWith is Load plus check, run on a structurally sound config, so one run reports
// every problem of both kinds with file, line and column.
func LoadWith(path string, check Checker) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return LoadBytesWith(data, path, check)
}

// LoadBytesWith is LoadBytes plus check (see LoadWith).
func LoadBytesWith(data []byte, filename string, check Checker) (*Config, error) {
	r := parse(data, filename)
	cfg, probs := r.cfg, slices.Clone(r.problems)
	if !r.fatal {
		// Value checks run even after decoding problems, so one run reports everything; a
		// value check on a field that already failed to decode would only repeat it.
		for _, p := range cfg.validate() {
			if coveredBy(p.Path, r.problems) {
				continue
			}
			if at, ok := r.pos.locate(p.Path); ok {
				p.Line, p.Column = at.line, at.col
			}
			p.File = filename
			probs = append(probs, p)
		}
		if check != nil && len(probs) == 0 {
			for _, p := range check(cfg) {
				if at, ok := r.pos.locate(p.Path); ok {
					p.Line, p.Column = at.line, at.col
				}
				p.File = filename
				probs = append(probs, p)
			}
		}
	}
	if len(probs) > 0 {
		return nil, finish(probs)
	}
	return cfg, nil
}

// coveredBy reports whether path is, or is inside, a path that already has a decoding problem.
func coveredBy(path string, probs Problems) bool {
	for _, p := range probs {
		for q, ok := path, true; ok; q, ok = parentPath(q) {
			if q == p.Path {
				return true
			}
		}
	}
	return false
}

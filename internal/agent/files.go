package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// writeFileAtomic replaces path with data, mode 0600: a reader sees the old content or
// the new, never a partial file (temporary file in the same directory, fsync, rename).
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if tmp != "" {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	tmp = ""
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// awsCredentialsFile renders an AWS shared credentials file with one profile.
func awsCredentialsFile(profile, keyID, secret, token string, expires time.Time) []byte {
	if profile == "" {
		profile = "default"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# written by keyless agent; expires %s\n", expires.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n", profile, keyID, secret, token)
	return []byte(b.String())
}

// awsConfigFile renders an AWS config file setting the profile's region.
func awsConfigFile(profile, region string) []byte {
	section := "default"
	if profile != "" && profile != "default" {
		section = "profile " + profile
	}
	return []byte("# written by keyless agent\n[" + section + "]\nregion = " + region + "\n")
}

package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every server started by a test is shut down by its cleanup; nothing it started
// (HTTP server, audit writer, key reloader) may outlive it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Package storetest is the conformance suite for store.Store backends, plus
// a fault-injecting wrapper other packages use to test how they react to
// storage failures.
//
// A backend's test calls Run with a function that opens a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keyless.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		}, storetest.WithReopen(reopen))
//	}
//
// The suite checks every method of the contract, including its error
// sentinels, ordering, limits and cursor pagination, all-or-nothing audit
// batches, concurrent appends, optimistic concurrency on config documents,
// behaviour after Close and, when a reopen hook is given, persistence across
// a restart. Subtests run in parallel, each on its own store.
package storetest

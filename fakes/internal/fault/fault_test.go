package fault_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/fault"
)

func TestMatching(t *testing.T) {
	tests := []struct {
		name    string
		match   fault.Match
		method  string
		subject string
		want    bool
	}{
		{name: "exact", match: fault.Match{Pattern: "token"}, method: "POST", subject: "token", want: true},
		{name: "exact is anchored", match: fault.Match{Pattern: "token"}, method: "POST", subject: "tokens", want: false},
		{name: "star alone matches all", match: fault.Match{Pattern: "*"}, method: "GET", subject: "/any/path", want: true},
		{name: "star crosses slashes", match: fault.Match{Pattern: "/remote.php/dav/files/*"}, method: "PUT", subject: "/remote.php/dav/files/alice/a/b.txt", want: true},
		{name: "star in the middle", match: fault.Match{Pattern: "*/notes/*"}, method: "GET", subject: "/index.php/apps/notes/api/v1/notes/7", want: true},
		{name: "regexp characters are literal", match: fault.Match{Pattern: "/a.b"}, method: "GET", subject: "/axb", want: false},
		{name: "method case-insensitive", match: fault.Match{Pattern: "*", Method: "put"}, method: "PUT", subject: "/x", want: true},
		{name: "other method", match: fault.Match{Pattern: "*", Method: "PUT"}, method: "GET", subject: "/x", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q fault.Queue[string]
			q.Arm(tt.match, 1, "f")
			_, ok := q.Take(tt.method, tt.subject)
			assert.Equal(t, tt.want, ok)
		})
	}
}

func TestCountAndOrder(t *testing.T) {
	var q fault.Queue[string]
	q.Arm(fault.Match{Pattern: "/a"}, 2, "first")
	q.Arm(fault.Match{Pattern: "*"}, 0, "catch-all") // count 0 means 1
	require.Equal(t, []fault.Armed[string]{{Fault: "first", Left: 2}, {Fault: "catch-all", Left: 1}}, q.List())

	for i, want := range []string{"first", "first", "catch-all"} {
		got, ok := q.Take("GET", "/a")
		require.True(t, ok, "request %d", i)
		assert.Equal(t, want, got, "request %d", i)
	}
	_, ok := q.Take("GET", "/a")
	assert.False(t, ok, "every fault is used up")
	assert.Empty(t, q.List())
}

func TestClear(t *testing.T) {
	var q fault.Queue[int]
	q.Arm(fault.Match{Pattern: "*"}, 5, 1)
	q.Clear()
	_, ok := q.Take("GET", "/")
	assert.False(t, ok)
}

func TestWait(t *testing.T) {
	assert.True(t, fault.Wait(context.Background(), 0))
	assert.True(t, fault.Wait(context.Background(), time.Millisecond))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	assert.False(t, fault.Wait(ctx, time.Hour))
	assert.Less(t, time.Since(start), time.Minute)
}

func TestValidSpec(t *testing.T) {
	tests := []struct {
		name   string
		status int
		delay  time.Duration
		count  int
		want   bool
	}{
		{name: "status", status: 503, want: true},
		{name: "delay", delay: time.Millisecond, want: true},
		{name: "both with count", status: 500, delay: time.Second, count: 3, want: true},
		{name: "neither", want: false},
		{name: "status too low", status: 99, want: false},
		{name: "status too high", status: 600, want: false},
		{name: "negative delay", status: 500, delay: -1, want: false},
		{name: "negative count", status: 500, count: -1, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, fault.ValidSpec(tt.status, tt.delay, tt.count))
		})
	}
}

// Package fault is the fault injection the fakes share: a queue of armed
// faults, each applying to the next Count requests whose method and
// subject (a URL path, an endpoint name) match it. What a fault does to a
// response — which status, in which error dialect — is each fake's own
// business; the payload type F carries it.
package fault

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Match selects requests.
type Match struct {
	// Pattern is a glob on the subject in which "*" matches any run of
	// characters, "/" included ("/remote.php/dav/files/*", "*/notes/*",
	// "token", "*"). Every other character matches itself.
	Pattern string
	// Method, when set, must equal the request method (case-insensitive).
	Method string
}

// Armed is a queued fault with the number of requests it still applies to.
type Armed[F any] struct {
	Fault F
	Left  int
}

type armed[F any] struct {
	Armed[F]
	re     *regexp.Regexp
	method string
}

// Queue holds armed faults in the order they were armed; the first one
// matching a request applies. It is safe for concurrent use.
type Queue[F any] struct {
	mu    sync.Mutex
	armed []*armed[F]
}

// Arm queues f for the next count requests m matches (1 when count is not
// positive).
func (q *Queue[F]) Arm(m Match, count int, f F) {
	if count <= 0 {
		count = 1
	}
	a := &armed[F]{Armed: Armed[F]{Fault: f, Left: count}, re: glob(m.Pattern), method: m.Method}
	q.mu.Lock()
	q.armed = append(q.armed, a)
	q.mu.Unlock()
}

// Take returns the first armed fault matching a request and uses up one of
// its requests; a fault with none left is disarmed.
func (q *Queue[F]) Take(method, subject string) (F, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, a := range q.armed {
		if a.method != "" && !strings.EqualFold(a.method, method) {
			continue
		}
		if !a.re.MatchString(subject) {
			continue
		}
		a.Left--
		if a.Left <= 0 {
			q.armed = append(q.armed[:i], q.armed[i+1:]...)
		}
		return a.Fault, true
	}
	var zero F
	return zero, false
}

// List returns the armed faults, first match first.
func (q *Queue[F]) List() []Armed[F] {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Armed[F], 0, len(q.armed))
	for _, a := range q.armed {
		out = append(out, a.Armed)
	}
	return out
}

// Clear disarms every fault.
func (q *Queue[F]) Clear() {
	q.mu.Lock()
	q.armed = nil
	q.mu.Unlock()
}

// glob compiles a pattern; quoting every literal part makes any string a
// valid pattern.
func glob(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// Wait sleeps d, or less when ctx ends first; it reports whether the whole
// delay passed.
func Wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ValidSpec is the check both control APIs apply to a fault: a status in
// 100-599 or none, a delay that is not negative, and at least one of the
// two; a count that is not negative.
func ValidSpec(status int, delay time.Duration, count int) bool {
	if status != 0 && (status < 100 || status > 599) {
		return false
	}
	if delay < 0 || count < 0 {
		return false
	}
	return status != 0 || delay > 0
}

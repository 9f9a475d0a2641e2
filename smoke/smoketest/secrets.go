package smoketest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// minSecretLen keeps short, common strings out of the scan: a secret
// shorter than this would match by accident and is no real credential.
const minSecretLen = 8

// Secrets are the credentials a suite used — access and refresh tokens,
// authorization codes, passwords, client secrets, encryption keys — that
// must never appear in any container's log. It is safe for concurrent use.
type Secrets struct {
	mu    sync.Mutex
	items map[string]string // value → label
}

// Add records a secret under a label that names it in reports (the value
// itself is never printed).
func (s *Secrets) Add(label, value string) {
	if len(value) < minSecretLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items == nil {
		s.items = map[string]string{}
	}
	if _, ok := s.items[value]; !ok {
		s.items[value] = label
	}
}

// AddToken records a token and, for a JWT, also its signature: a log line
// that cut the token apart would still leak a usable credential if the
// signature survived.
func (s *Secrets) AddToken(label, token string) {
	s.Add(label, token)
	if parts := strings.Split(token, "."); len(parts) == 3 && len(parts[2]) >= 16 {
		s.Add(label+" (JWT signature)", parts[2])
	}
}

// Len is the number of recorded secrets.
func (s *Secrets) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// Leak is a secret found in a container's log.
type Leak struct {
	Container string
	Label     string
	Line      int
	// Excerpt is the line with every recorded secret redacted.
	Excerpt string
}

func (l Leak) String() string {
	return fmt.Sprintf("%s log line %d contains %s: %s", l.Container, l.Line, l.Label, l.Excerpt)
}

// snapshot returns the recorded secrets longest first (so a token is
// redacted before its own signature) with their labels.
func (s *Secrets) snapshot() ([]string, map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	values := make([]string, 0, len(s.items))
	labels := make(map[string]string, len(s.items))
	for v, l := range s.items {
		values = append(values, v)
		labels[v] = l
	}
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	return values, labels
}

// Redact replaces every recorded secret in text by its label.
func (s *Secrets) Redact(text string) string {
	values, labels := s.snapshot()
	for _, v := range values {
		text = strings.ReplaceAll(text, v, "[REDACTED "+labels[v]+"]")
	}
	return text
}

// Scan reports every line of a container's log that contains a recorded
// secret, in line order, with the line redacted.
func (s *Secrets) Scan(container, log string) []Leak {
	values, labels := s.snapshot()
	var leaks []Leak
	for i, line := range strings.Split(log, "\n") {
		// Longest first, each removed once found: a token's own signature
		// is not reported again.
		var found []string
		rest := line
		for _, v := range values {
			if strings.Contains(rest, v) {
				found = append(found, v)
				rest = strings.ReplaceAll(rest, v, "\x00")
			}
		}
		if len(found) == 0 {
			continue
		}
		redacted := s.Redact(line)
		if len(redacted) > 300 {
			redacted = redacted[:300] + "…"
		}
		for _, v := range found {
			leaks = append(leaks, Leak{Container: container, Label: labels[v], Line: i + 1, Excerpt: redacted})
		}
	}
	return leaks
}

package nextcloud

import (
	"net/http"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/fault"
)

// TokenClaims are the claims of a validated bearer token that the request
// log keeps. The raw token is never kept.
type TokenClaims struct {
	Sub   string         `json:"sub"`
	Aud   []string       `json:"aud"`
	Azp   string         `json:"azp,omitempty"`
	Act   map[string]any `json:"act,omitempty"`
	Scope string         `json:"scope,omitempty"`
	Jti   string         `json:"jti,omitempty"`
}

// LogEntry is one request as the fake saw it. It never holds a token,
// password or query string.
type LogEntry struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Status int       `json:"status"`
	// AuthKind is the credential presented: "none", "basic" or "bearer".
	AuthKind string `json:"auth_kind"`
	// UID is the logged-in user; empty when the credential was refused.
	UID   string       `json:"uid"`
	Token *TokenClaims `json:"claims,omitempty"`
	// AuthError says why a presented credential was refused.
	AuthError string `json:"auth_error,omitempty"`
	// OCSAPIRequest records whether the OCS-APIRequest header was sent.
	OCSAPIRequest bool `json:"ocs_apirequest"`
}

// RequestLog returns a copy of the request log, oldest first.
func (n *Nextcloud) RequestLog() []LogEntry { return n.reqLog.Entries() }

// ResetLog empties the request log.
func (n *Nextcloud) ResetLog() { n.reqLog.Reset() }

// Fault makes the next Count requests whose path matches Pattern (and whose
// method is Method, when set) wait Delay and/or fail with Status.
type Fault struct {
	// Pattern is a glob on the URL path in which "*" matches any run of
	// characters, "/" included: "/remote.php/dav/files/*", "*/notes/*".
	Pattern string `json:"pattern"`
	Method  string `json:"method,omitempty"`
	// Status, when non-zero, is answered in the dialect of the route (sabre
	// XML, OCS envelope or app JSON) instead of handling the request.
	Status int `json:"status,omitempty"`
	// Delay is waited before answering (or handling, when Status is zero).
	Delay time.Duration `json:"delay,omitempty"`
	// Count is how many requests the fault applies to; 1 when zero.
	Count int `json:"count,omitempty"`
	// Message replaces the default error message.
	Message string `json:"message,omitempty"`
	// Headers are added to the faulted response (e.g. Retry-After).
	Headers map[string]string `json:"headers,omitempty"`
}

// InjectFault arms f. Every pattern is valid: only "*" is special.
func (n *Nextcloud) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	n.faults.Arm(fault.Match{Pattern: f.Pattern, Method: f.Method}, f.Count, f)
}

// ClearFaults disarms every fault.
func (n *Nextcloud) ClearFaults() { n.faults.Clear() }

// Faults returns the armed faults with their remaining counts.
func (n *Nextcloud) Faults() []Fault {
	var out []Fault
	for _, a := range n.faults.List() {
		f := a.Fault
		f.Count = a.Left
		out = append(out, f)
	}
	return out
}

func (n *Nextcloud) takeFault(r *http.Request) *Fault {
	f, ok := n.faults.Take(r.Method, r.URL.Path)
	if !ok {
		return nil
	}
	return &f
}

// faultExceptions names the exception a real server would report for the
// common injected statuses on DAV.
var faultExceptions = map[int]string{
	http.StatusLocked:              `OCA\DAV\Connector\Sabre\Exception\FileLocked`,
	http.StatusTooManyRequests:     `OCA\DAV\Connector\Sabre\Exception\TooManyRequests`,
	http.StatusServiceUnavailable:  `Sabre\DAV\Exception\ServiceUnavailable`,
	http.StatusInsufficientStorage: `Sabre\DAV\Exception\InsufficientStorage`,
	http.StatusForbidden:           `Sabre\DAV\Exception\Forbidden`,
	http.StatusNotFound:            `Sabre\DAV\Exception\NotFound`,
	http.StatusConflict:            `Sabre\DAV\Exception\Conflict`,
	http.StatusPreconditionFailed:  `Sabre\DAV\Exception\PreconditionFailed`,
}

func writeFault(w http.ResponseWriter, d dialect, f *Fault) {
	for k, v := range f.Headers {
		w.Header().Set(k, v)
	}
	msg := f.Message
	if msg == "" {
		msg = "Injected fault: " + http.StatusText(f.Status)
	}
	switch d {
	case dialectDAV:
		exc := faultExceptions[f.Status]
		if exc == "" {
			exc = `Sabre\DAV\Exception`
		}
		writeDAVError(w, &davError{status: f.Status, exception: exc, message: msg})
	case dialectOCS:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		frameworkHeaders(w.Header())
		w.WriteHeader(f.Status)
		_, _ = w.Write(phpJSON(obj{{"ocs", obj{{"meta", obj{{"status", "failure"}, {"statuscode", f.Status}, {"message", msg}}}, {"data", []any{}}}}}))
	case dialectApp:
		writeAppMessage(w, f.Status, msg)
	default:
		http.Error(w, msg, f.Status)
	}
}

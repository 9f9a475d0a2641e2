package idp

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/fault"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/loopback"
)

// LogEntry is one request as the request log records it: never a secret, a
// code or a raw token.
type LogEntry struct {
	Time      time.Time `json:"time"`
	Endpoint  string    `json:"endpoint"`
	Method    string    `json:"method"`
	GrantType string    `json:"grant_type,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Audience  []string  `json:"audience,omitempty"`
	Status    int       `json:"status"`
	// Outcome is "ok", an OAuth error code, or an endpoint-specific word
	// ("active", "inactive", "revoked", "unknown_token", "login_failed",
	// "fault").
	Outcome string `json:"outcome"`
}

func (p *IdP) record(e *LogEntry, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	e.Status = status
	if e.Outcome == "" {
		if status < 400 {
			e.Outcome = "ok"
		} else {
			e.Outcome = http.StatusText(status)
		}
	}
	e.Time = p.Now()
	e.Audience = slices.Clone(e.Audience)
	p.reqlog.Append(*e)
}

// RequestLog returns a copy of the request log, oldest first.
func (p *IdP) RequestLog() []LogEntry {
	out := p.reqlog.Entries()
	for i := range out {
		out[i].Audience = slices.Clone(out[i].Audience)
	}
	return out
}

// ResetLog empties the request log.
func (p *IdP) ResetLog() { p.reqlog.Reset() }

// Fault makes the next Count requests to Endpoint wait Delay and then, if
// Status is set, answer Status with an OAuth error body instead of the
// real response.
type Fault struct {
	// Endpoint is an endpoint name: token, authorize, login, consent, jwks,
	// introspect, revoke, userinfo, register, openid-configuration,
	// oauth-authorization-server; or "*" for all of them.
	Endpoint string
	Status   int
	Delay    time.Duration
	// Count is the number of requests affected; 1 when zero.
	Count int
	// Error is the OAuth error code of the body; derived from Status when
	// empty (temporarily_unavailable for 503, server_error for other 5xx,
	// invalid_request otherwise).
	Error string
}

// FaultEndpoints lists the endpoint names a Fault may name.
var FaultEndpoints = []string{
	epToken, epAuthorize, epLogin, epConsent, epJWKS, epIntrospect, epRevoke, epUserinfo,
	epRegister, epDiscoveryOIDC, epDiscoveryOAuth, "*",
}

// InjectFault queues a fault; faults for the same endpoint apply in order.
// Endpoint is matched as a glob, so "*" (the only name with a star)
// matches every endpoint.
func (p *IdP) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	p.faults.Arm(fault.Match{Pattern: f.Endpoint}, f.Count, f)
}

// ClearFaults drops every queued fault.
func (p *IdP) ClearFaults() { p.faults.Clear() }

func (p *IdP) takeFault(r *http.Request, endpoint string) *Fault {
	f, ok := p.faults.Take(r.Method, endpoint)
	if !ok {
		return nil
	}
	return &f
}

func writeFault(w http.ResponseWriter, f *Fault) {
	code := f.Error
	switch {
	case code != "":
	case f.Status == http.StatusServiceUnavailable:
		code = "temporarily_unavailable"
	case f.Status >= 500:
		code = "server_error"
	default:
		code = "invalid_request"
	}
	writeError(w, &Error{Code: code, Description: "injected fault", Status: f.Status})
}

// Control API JSON shapes.
type (
	mintJSON struct {
		Claims     map[string]any `json:"claims"`
		Header     map[string]any `json:"header"`
		Key        MintKey        `json:"key"`
		ExpiresIn  *int64         `json:"expires_in"` // seconds; negative = expired
		NoDefaults bool           `json:"no_defaults"`
	}
	faultJSON struct {
		Endpoint string `json:"endpoint"`
		Status   int    `json:"status"`
		DelayMS  int64  `json:"delay_ms"`
		Count    int    `json:"count"`
		Error    string `json:"error"`
	}
	clockJSON struct {
		OffsetSeconds int64 `json:"offset_seconds"`
		Now           int64 `json:"now,omitempty"`
	}
)

// handleControl serves /_fake/… (rel has the /_fake prefix removed).
func (p *IdP) handleControl(w http.ResponseWriter, r *http.Request, rel string) {
	if !loopback.Host(r.Host) {
		// A DNS-rebinding page reaches the listener under its own name.
		http.Error(w, "the control API answers only requests to a loopback host (localhost, 127.0.0.1, [::1])", http.StatusForbidden)
		return
	}
	fail := func(e *Error) { writeError(w, e) }
	method := r.Method
	switch {
	case rel == "/mint" && method == http.MethodPost:
		var in mintJSON
		if e := decodeJSON(r, &in); e != nil {
			fail(e)
			return
		}
		m := MintRequest{Claims: in.Claims, Header: in.Header, Key: in.Key, NoDefaults: in.NoDefaults}
		if in.ExpiresIn != nil {
			m.ExpiresIn = time.Duration(*in.ExpiresIn) * time.Second
			if m.ExpiresIn == 0 {
				m.ExpiresIn = -time.Nanosecond // expires now
			}
		}
		tok, err := p.Mint(m)
		if err != nil {
			fail(errInvalidRequest(err.Error()))
			return
		}
		writeJSONNoStore(w, http.StatusOK, map[string]string{"token": tok})
	case rel == "/issue" && method == http.MethodPost:
		var in IssueRequest
		if e := decodeJSON(r, &in); e != nil {
			fail(e)
			return
		}
		resp, err := p.IssueAccessToken(r.Context(), in)
		if err != nil {
			var oe *Error
			if errors.As(err, &oe) {
				fail(oe)
			} else {
				fail(errInvalidRequest(err.Error()))
			}
			return
		}
		writeJSONNoStore(w, http.StatusOK, resp)
	case rel == "/keys" && method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"kids": p.KeyIDs()})
	case rel == "/keys/rotate" && method == http.MethodPost:
		var in struct {
			Alg string `json:"alg"`
		}
		if r.ContentLength != 0 {
			if e := decodeJSON(r, &in); e != nil {
				fail(e)
				return
			}
		}
		kid, err := p.RotateKeysTo(in.Alg)
		if err != nil {
			fail(errInvalidRequest(err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"kid": kid, "kids": p.KeyIDs()})
	case rel == "/clock" && (method == http.MethodGet || method == http.MethodPost):
		if method == http.MethodPost {
			var in clockJSON
			if e := decodeJSON(r, &in); e != nil {
				fail(e)
				return
			}
			p.SetClockOffset(time.Duration(in.OffsetSeconds) * time.Second)
		}
		writeJSON(w, http.StatusOK, clockJSON{OffsetSeconds: int64(p.ClockOffset() / time.Second), Now: p.Now().Unix()})
	case rel == "/faults" && method == http.MethodPost:
		var in faultJSON
		if e := decodeJSON(r, &in); e != nil {
			fail(e)
			return
		}
		if !slices.Contains(FaultEndpoints, in.Endpoint) {
			fail(errInvalidRequest("endpoint must be one of " + strings.Join(FaultEndpoints, ", ")))
			return
		}
		if in.DelayMS < 0 || !fault.ValidSpec(in.Status, time.Duration(in.DelayMS)*time.Millisecond, in.Count) {
			fail(errInvalidRequest("a fault needs a status (100-599) or a positive delay_ms; count must not be negative"))
			return
		}
		p.InjectFault(Fault{Endpoint: in.Endpoint, Status: in.Status, Delay: time.Duration(in.DelayMS) * time.Millisecond, Count: in.Count, Error: in.Error})
		w.WriteHeader(http.StatusNoContent)
	case rel == "/faults" && method == http.MethodDelete:
		p.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case rel == "/log" && method == http.MethodGet:
		writeJSON(w, http.StatusOK, p.RequestLog())
	case rel == "/log" && method == http.MethodDelete:
		p.ResetLog()
		w.WriteHeader(http.StatusNoContent)
	case rel == "/reset" && method == http.MethodPost:
		if err := p.Reset(); err != nil {
			fail(errServer("reset failed"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case rel == "/exchange" && method == http.MethodPost:
		var in struct {
			Enabled *bool `json:"enabled"`
		}
		if e := decodeJSON(r, &in); e != nil {
			fail(e)
			return
		}
		if in.Enabled == nil {
			fail(errInvalidRequest("enabled is required"))
			return
		}
		p.SetTokenExchange(*in.Enabled)
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(rel, "/clients/") && len(rel) > len("/clients/"):
		id := strings.TrimPrefix(rel, "/clients/")
		switch method {
		case http.MethodGet:
			c, ok := p.Client(id)
			if !ok {
				fail(&Error{Code: "not_found", Description: "unknown client", Status: http.StatusNotFound})
				return
			}
			c.Secret = "" // never echo secrets
			writeJSON(w, http.StatusOK, c)
		case http.MethodPut:
			var c Client
			if e := decodeJSON(r, &c); e != nil {
				fail(e)
				return
			}
			if c.ID != id {
				fail(errInvalidRequest("the body's id must match the path"))
				return
			}
			if err := p.UpsertClient(c); err != nil {
				fail(errInvalidRequest(err.Error()))
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, PUT")
			fail(&Error{Code: "invalid_request", Description: "method not allowed", Status: http.StatusMethodNotAllowed})
		}
	default:
		fail(&Error{Code: "not_found", Description: "no such control endpoint or method", Status: http.StatusNotFound})
	}
}

// decodeJSON reads a JSON body strictly: application/json, bounded size,
// no unknown fields, a single value.
func decodeJSON(r *http.Request, v any) *Error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errInvalidRequest("the content type must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errInvalidRequest("the JSON body is invalid: " + safeDesc(err.Error()))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errInvalidRequest("the body must hold exactly one JSON value")
	}
	return nil
}

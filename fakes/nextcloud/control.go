package nextcloud

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/fault"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/internal/loopback"
)

type faultJSON struct {
	Pattern string            `json:"pattern"`
	Method  string            `json:"method"`
	Status  int               `json:"status"`
	DelayMS int64             `json:"delay_ms"`
	Count   int               `json:"count"`
	Message string            `json:"message"`
	Headers map[string]string `json:"headers"`
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeControlJSON(w, status, map[string]string{"error": msg})
}

// decodeControl reads a strict JSON body: application/json, at most 8 MiB,
// no unknown fields.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		controlError(w, http.StatusUnsupportedMediaType, "the content type must be application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		controlError(w, http.StatusBadRequest, "the JSON body is invalid: "+err.Error())
		return false
	}
	return true
}

// serveControl is the test-control API under /_fake/ (Config.ControlAPI).
func (n *Nextcloud) serveControl(w http.ResponseWriter, r *http.Request) {
	if !loopback.Host(r.Host) {
		// A DNS-rebinding page reaches the listener under its own name.
		controlError(w, http.StatusForbidden, "the control API answers only requests to a loopback host (localhost, 127.0.0.1, [::1])")
		return
	}
	rel := strings.TrimPrefix(r.URL.Path, "/_fake")
	m := r.Method
	switch {
	case rel == "/log" && m == http.MethodGet:
		writeControlJSON(w, http.StatusOK, n.RequestLog())
	case rel == "/log" && m == http.MethodDelete:
		n.ResetLog()
		w.WriteHeader(http.StatusNoContent)
	case rel == "/reset" && m == http.MethodPost:
		if err := n.Reset(); err != nil {
			controlError(w, http.StatusInternalServerError, "reset failed: "+err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case rel == "/seed" && m == http.MethodPost:
		var s Seed
		if !decodeControl(w, r, &s) {
			return
		}
		if err := n.SeedData(s); err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case rel == "/faults" && m == http.MethodGet:
		fs := n.Faults()
		if fs == nil {
			fs = []Fault{}
		}
		writeControlJSON(w, http.StatusOK, fs)
	case rel == "/faults" && m == http.MethodPost:
		var f faultJSON
		if !decodeControl(w, r, &f) {
			return
		}
		delay := time.Duration(f.DelayMS) * time.Millisecond
		if f.Pattern == "" || f.DelayMS < 0 || !fault.ValidSpec(f.Status, delay, f.Count) {
			controlError(w, http.StatusBadRequest, "a fault needs a pattern and a status (100-599) or a positive delay_ms; count must not be negative")
			return
		}
		n.InjectFault(Fault{Pattern: f.Pattern, Method: f.Method, Status: f.Status, Delay: delay,
			Count: f.Count, Message: f.Message, Headers: f.Headers})
		w.WriteHeader(http.StatusNoContent)
	case rel == "/faults" && m == http.MethodDelete:
		n.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case rel == "/bearer-on-app-routes" && (m == http.MethodGet || m == http.MethodPost || m == http.MethodPut):
		if m != http.MethodGet {
			var in struct {
				Mode string `json:"mode"`
			}
			if !decodeControl(w, r, &in) {
				return
			}
			if err := n.SetBearerOnAppRoutes(in.Mode); err != nil {
				controlError(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		writeControlJSON(w, http.StatusOK, map[string]string{"mode": n.BearerOnAppRoutes()})
	case rel == "/users" && m == http.MethodGet:
		writeControlJSON(w, http.StatusOK, n.userSummaries())
	default:
		controlError(w, http.StatusNotFound, "no such control endpoint or method")
	}
}

// UserSummary is a user as GET /_fake/users lists it (no secrets).
type UserSummary struct {
	UID         string   `json:"uid"`
	LoginName   string   `json:"login_name"`
	DisplayName string   `json:"display_name"`
	Email       string   `json:"email,omitempty"`
	Groups      []string `json:"groups"`
	Backend     string   `json:"backend"`
}

func (n *Nextcloud) userSummaries() []UserSummary {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := []UserSummary{}
	for _, uid := range n.st.sortedUIDs() {
		u := n.st.users[uid]
		g := append([]string{}, u.Groups...)
		out = append(out, UserSummary{UID: u.UID, LoginName: u.LoginName, DisplayName: u.DisplayName, Email: u.Email, Groups: g, Backend: u.Backend})
	}
	return out
}

package mcpcheck

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

// NoSecretsLeak: docs/architecture.md §2 invariant 4 — tokens, passwords, codes
// and refresh tokens never appear in logs, errors or tool results. Run
// last: it scans the server's log and every answer the suite received for
// each credential the suite handled, and for anything shaped like a JWT.
func NoSecretsLeak(ctx context.Context, t *grade.Target) grade.Outcome {
	if o, ok := needMCP(t); !ok {
		return o
	}
	secrets := append(t.Secrets(), t.MCP.Secrets...)
	if t.MCP.Tap != nil && t.MCP.ServerClientID != "" {
		secrets = append(secrets, t.MCP.Tap.RefreshTokens(t.MCP.ServerClientID)...)
	}
	type source struct {
		name string
		data []byte
	}
	var srcs []source
	if t.MCP.ServerLog != nil {
		srcs = append(srcs, source{"server log", t.MCP.ServerLog()})
	}
	if t.Recorder != nil {
		srcs = append(srcs, source{"answers to the suite", t.Recorder.Bytes()})
	}
	if len(srcs) == 0 {
		return grade.NAf("neither the server's log nor its answers were recorded")
	}
	var ev []string
	for _, s := range srcs {
		for _, sec := range secrets {
			if sec != "" && bytes.Contains(s.data, []byte(sec)) {
				return grade.Failf("the %s contains a credential the suite handled (%.6s…, %d chars)", s.name, sec, len(sec))
			}
		}
		if m := jwtRE.Find(s.data); m != nil {
			return grade.Failf("the %s contains a JWT (%.24s…)", s.name, m)
		}
		ev = append(ev, fmt.Sprintf("%s %d KiB", s.name, (len(s.data)+1023)/1024))
	}
	scope := strings.Join(ev, ", ")
	if t.MCP.ServerLog == nil {
		scope += " (server log not available: answers only)"
	}
	return grade.Passf("none of %d credentials and no JWT in %s", len(secrets), scope)
}

package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/oauth"
)

func TestDescribeNextcloudError(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		err  error
		want string
	}{
		{"cors refusal", ModeExchange, &nextcloud.Error{Op: "get note 1", Status: 401, AuthKind: nextcloud.AuthBearer, BearerRejectedOnAppRoute: true}, "#[CORS]"},
		{"basic 401", ModeBasic, &nextcloud.Error{Op: "get note 1", Status: 401, AuthKind: nextcloud.AuthBasic}, "NEXTCLOUD_PASSWORD"},
		{"passthrough 401", ModePassthrough, &nextcloud.Error{Op: "get note 1", Status: 401, AuthKind: nextcloud.AuthBearer}, "audience must include"},
		{"exchange 401 names the audience", ModeExchange, &nextcloud.Error{Op: "get note 1", Status: 401, AuthKind: nextcloud.AuthBearer}, `client id "nc-aud"`},
		{"404 unchanged", ModeExchange, &nextcloud.Error{Op: "get note 1", Resource: "Note 1", Status: 404}, "Note 1 not found"},
		{"other error unchanged", ModeBasic, errors.New("boom"), "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeNextcloudError(tt.mode, "nc-aud", tt.err)
			if !strings.Contains(got.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Error("the original error is no longer wrapped")
			}
		})
	}
}

func TestExplainExchange(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&oauth.Error{Code: oauth.CodeUnsupportedGrantType}, "ENABLE_TOKEN_EXCHANGE=false"},
		{&oauth.Error{Code: "invalid_target"}, "token-exchange permission"},
		{&oauth.Error{Code: oauth.CodeInvalidClient}, "OIDC_CLIENT_SECRET"},
		{fmt.Errorf("x: %w", oauth.ErrUnavailable), "unreachable"},
	}
	for _, tt := range tests {
		if got := explainExchange(tt.err); !strings.Contains(got, tt.want) || !strings.HasPrefix(got, "token exchange with the identity provider failed") {
			t.Errorf("explainExchange(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

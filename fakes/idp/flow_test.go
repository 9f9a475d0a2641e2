package idp_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/idp"
)

// TestFullFlow runs authorization code + PKCE, refresh, and token exchange
// with golang.org/x/oauth2 as the client and go-oidc as an independent
// verifier of every token, for both signing algorithms.
func TestFullFlow(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) { fullFlow(t, alg) })
	}
}

func fullFlow(t *testing.T, alg string) {
	s := autoApprove(t, func(c *idp.Config) { c.SigningAlg = alg })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, noRedirect)
	resource := "http://127.0.0.1:7777/mcp"
	srv, _ := s.Client(idp.ClientMCPServer)
	srv.ResourceURIs = []string{resource}
	if err := s.UpsertClient(srv); err != nil {
		t.Fatal(err)
	}

	provider, err := oidc.NewProvider(ctx, s.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	keys := oidc.NewRemoteKeySet(ctx, provider.Endpoint().AuthURL[:len(s.URL)]+"/jwks")
	accessVerifier := func(aud string) *oidc.IDTokenVerifier {
		return oidc.NewVerifier(s.URL, keys, &oidc.Config{ClientID: aud, SupportedSigningAlgs: []string{alg}})
	}
	conf := oauth2.Config{
		ClientID:    idp.ClientMCP,
		Endpoint:    oauth2.Endpoint{AuthURL: provider.Endpoint().AuthURL, TokenURL: provider.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: loopbackCB,
		Scopes:      []string{"openid", "profile", "email", "offline_access", "notes:read", "notes:write"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("resource", resource), oauth2.SetAuthURLParam("nonce", "n-0S6"),
		oauth2.SetAuthURLParam("login_hint", "bob"))
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("state") != "state-123" || loc.Query().Get("iss") != s.URL {
		t.Fatalf("redirect %q lacks state or RFC 9207 iss", resp.Header.Get("Location"))
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier),
		oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}

	// ID token: audience = client, nonce, at_hash.
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: idp.ClientMCP, SupportedSigningAlgs: []string{alg}}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Subject != "bob" || idt.Nonce != "n-0S6" {
		t.Errorf("ID token sub %q nonce %q", idt.Subject, idt.Nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var idClaims struct {
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	if err := idt.Claims(&idClaims); err != nil || idClaims.PreferredUsername != "bob" || idClaims.Email != "bob@example.com" {
		t.Errorf("ID token profile/email claims %+v (%v)", idClaims, err)
	}

	// Access token: RFC 9068, aud = the resource.
	at, err := accessVerifier(resource).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	checkAccessClaims(t, tok.AccessToken, idp.ClientMCP, "bob", "openid profile email offline_access notes:read notes:write")
	if h := header(t, tok.AccessToken); h["typ"] != "at+jwt" || h["kid"] == nil || h["alg"] != alg {
		t.Errorf("access token header %v", h)
	}
	if at.Subject != "bob" {
		t.Errorf("access token sub %q", at.Subject)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token despite offline_access")
	}

	// Refresh with down-scoping: rotated refresh token, narrower access token.
	refreshed, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh token was not rotated")
	}
	if _, err := accessVerifier(resource).Verify(ctx, refreshed.AccessToken); err != nil {
		t.Fatalf("refreshed access token: %v", err)
	}
	down := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", refreshed.RefreshToken,
		"client_id", idp.ClientMCP, "scope", "notes:read"), "", "")
	if down.Status != 200 || down.str("scope") != "notes:read" {
		t.Fatalf("down-scope refresh: %d %s", down.Status, down.Raw)
	}
	if _, err := accessVerifier(resource).Verify(ctx, down.str("access_token")); err != nil {
		t.Fatalf("down-scoped access token: %v", err)
	}

	// Token exchange by the MCP server: aud = nextcloud, act, azp.
	ex := post(t, s, "/token", form("grant_type", idp.GrantTokenExchange, "subject_token", refreshed.AccessToken,
		"subject_token_type", idp.TokenTypeAccessToken, "audience", idp.ClientNextcloud), idp.ClientMCPServer, serverSecret)
	if ex.Status != 200 {
		t.Fatalf("exchange: %d %s", ex.Status, ex.Raw)
	}
	if ex.str("issued_token_type") != idp.TokenTypeAccessToken || ex.str("token_type") != "Bearer" || ex.str("refresh_token") != "" {
		t.Errorf("exchange response %s", ex.Raw)
	}
	exTok := ex.str("access_token")
	if _, err := accessVerifier(idp.ClientNextcloud).Verify(ctx, exTok); err != nil {
		t.Fatalf("exchanged token: %v", err)
	}
	ec, sc := claims(t, exTok), claims(t, refreshed.AccessToken)
	act, _ := ec["act"].(map[string]any)
	if ec["sub"] != "bob" || ec["azp"] != idp.ClientMCPServer || ec["client_id"] != idp.ClientMCPServer ||
		act["sub"] != idp.ClientMCPServer || ec["jti"] == sc["jti"] || ec["aud"] != idp.ClientNextcloud {
		t.Errorf("exchanged claims %v", ec)
	}
	if life := ec["exp"].(float64) - ec["iat"].(float64); life != 300 {
		t.Errorf("exchanged token lifetime %v, want 300", life)
	}

	// Replaying the rotated refresh token revokes the family, exchanged
	// token included.
	replay := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", tok.RefreshToken,
		"client_id", idp.ClientMCP), "", "")
	if replay.Status != 400 || replay.str("error") != "invalid_grant" {
		t.Fatalf("refresh reuse: %d %s", replay.Status, replay.Raw)
	}
	newest := post(t, s, "/token", form("grant_type", "refresh_token", "refresh_token", down.str("refresh_token"),
		"client_id", idp.ClientMCP), "", "")
	if newest.str("error") != "invalid_grant" {
		t.Errorf("family member still usable after reuse: %s", newest.Raw)
	}
	for _, tk := range []string{refreshed.AccessToken, exTok} {
		in := post(t, s, "/introspect", form("token", tk), idp.ClientNextcloud, nextcloudSecret)
		if in.Body["active"] != false {
			t.Errorf("token of a revoked family still active: %s", in.Raw)
		}
	}
}

// checkAccessClaims asserts the RFC 9068 claim set.
func checkAccessClaims(t *testing.T, jwt, client, user, scope string) {
	t.Helper()
	c := claims(t, jwt)
	for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "preferred_username", "email"} {
		if _, ok := c[k]; !ok {
			t.Errorf("access token lacks %s: %v", k, c)
		}
	}
	if c["client_id"] != client || c["preferred_username"] != user || c["scope"] != scope {
		t.Errorf("access token claims %v", c)
	}
	if !slices.Contains(strings.Fields(c["scope"].(string)), "openid") && strings.Contains(scope, "openid") {
		t.Errorf("scope %v", c["scope"])
	}
}

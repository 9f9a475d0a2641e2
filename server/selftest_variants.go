//go:build conformance_selftest

package server

import "fmt"

// SetBrokenVariant makes the server deliberately violate one requirement,
// so the conformance suite can prove it notices. It exists only in builds
// with the conformance_selftest tag:
//
//	no-call-scope-check            tools/list is filtered, but calls are not checked
//	exchange-fallback-passthrough  a failed exchange forwards the client's token
//	no-audience-check              inbound tokens for any audience are accepted
//	refresh-for-tool-calls         tool calls use a fresh refresh grant (needs consent)
//	no-origin-check                requests from any Origin are served
//	accept-userless-tokens         client-credentials and service-account tokens are accepted
//	no-session-or-batch-caps       sessions and JSON-RPC batches are unbounded
//	public-cache-scope             results say cacheScope "public"
//	session-identity-cache         a session's first token serves all its later requests
//	exchanged-token-reuse          exchanges per call but reuses the user's first exchanged token
//	log-issued-tokens              exchanged tokens and stored refresh tokens are logged
//	refresh-cached-for-tool-calls  tool calls use the broker's cached Flow 2 token (needs consent)
//	query-token-accepted           the HTTP layer takes ?access_token= (the SDK inside still refuses)
func (c *Config) SetBrokenVariant(name string) error {
	switch name {
	case variantNoCallScopeCheck, variantExchangeFallback, variantNoAudienceCheck, variantRefreshForToolCalls, variantNoOriginCheck, variantAcceptUserless, variantNoLimits, variantPublicCache, variantSessionIdentity, variantExchangeReuse, variantLogTokens, variantRefreshCached, variantQueryToken, "":
		c.brokenVariant = name
		return nil
	}
	return fmt.Errorf("server: unknown broken variant %q", name)
}

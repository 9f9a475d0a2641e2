package idp

import (
	"net/http"
	"slices"
)

// Metadata is the authorization server metadata (RFC 8414 §2, OpenID
// Connect Discovery §3) served at both well-known locations.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
}

// Metadata returns the current discovery document.
func (p *IdP) Metadata() Metadata {
	p.mu.Lock()
	iss, exchange := p.issuer, p.exchangeEnabled
	sc := slices.Clone(p.scopes)
	var algs []string
	for _, k := range p.publishedLocked() {
		if !slices.Contains(algs, string(k.alg)) {
			algs = append(algs, string(k.alg))
		}
	}
	p.mu.Unlock()
	grants := []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}
	if exchange {
		grants = append(grants, GrantTokenExchange)
	}
	m := Metadata{
		Issuer:                                    iss,
		AuthorizationEndpoint:                     iss + endpointPaths[epAuthorize],
		TokenEndpoint:                             iss + endpointPaths[epToken],
		JWKSURI:                                   iss + endpointPaths[epJWKS],
		UserinfoEndpoint:                          iss + endpointPaths[epUserinfo],
		IntrospectionEndpoint:                     iss + endpointPaths[epIntrospect],
		RevocationEndpoint:                        iss + endpointPaths[epRevoke],
		ScopesSupported:                           sc,
		ResponseTypesSupported:                    []string{"code"},
		ResponseModesSupported:                    []string{"query"},
		GrantTypesSupported:                       grants,
		CodeChallengeMethodsSupported:             []string{"S256"},
		TokenEndpointAuthMethodsSupported:         []string{authBasic, authPost, authNone},
		IntrospectionEndpointAuthMethodsSupported: []string{authBasic, authPost},
		RevocationEndpointAuthMethodsSupported:    []string{authBasic, authPost, authNone},
		SubjectTypesSupported:                     []string{"public"},
		IDTokenSigningAlgValuesSupported:          algs,
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp",
			"at_hash", "name", "preferred_username", "email", "email_verified"},
		PromptValuesSupported:                      []string{"none", "login", "consent"},
		AuthorizationResponseIssParameterSupported: true,
	}
	if !p.registrationOff {
		m.RegistrationEndpoint = iss + endpointPaths[epRegister]
	}
	return m
}

// handleDiscovery serves the metadata document.
func (p *IdP) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, &Error{Code: "invalid_request", Description: "the method must be GET", Status: http.StatusMethodNotAllowed})
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, p.Metadata())
}

package server

// WithoutHTTPScopeCheck switches the HTTP layer's scope check off and
// leaves the MCP layer's on, so a test can prove the MCP layer as the
// server wires it refuses what slips past the HTTP layer.
func WithoutHTTPScopeCheck(c *Config) { c.brokenVariant = variantNoHTTPScopeCheck }

// WithBrokenVariant makes the server deliberately broken in the named way
// (a test proving that its checks notice); see selftest_variants.go and
// the variant constants.
func WithBrokenVariant(name string) func(*Config) {
	return func(c *Config) { c.brokenVariant = name }
}

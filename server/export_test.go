package server

// WithoutHTTPScopeCheck switches the HTTP layer's scope check off and
// leaves the MCP layer's on, so a test can prove the MCP layer as the
// server wires it refuses what slips past the HTTP layer.
func WithoutHTTPScopeCheck(c *Config) { c.brokenVariant = variantNoHTTPScopeCheck }

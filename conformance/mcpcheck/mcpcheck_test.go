package mcpcheck

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/conformance/grade"
)

type fixedTap []string

func (f fixedTap) RefreshTokens(string) []string { return f }

// TestChecksFailOnViolations runs each check against the well-behaved
// harness (it must pass) and against the harness broken in exactly the
// way the check exists to catch (it must fail, or warn where the
// requirement says so).
func TestChecksFailOnViolations(t *testing.T) {
	type tc struct {
		check   grade.Func
		mode    string
		consent bool
		flaws   flaws
		want    grade.Status
		setup   func(t *testing.T, tg *grade.Target)
	}
	const ex, pt = grade.ModeExchange, grade.ModePassthrough
	dbWith := func(content string) func(t *testing.T, tg *grade.Target) {
		return func(t *testing.T, tg *grade.Target) {
			p := filepath.Join(t.TempDir(), "tokens.db")
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			tg.MCP.TokenDB = p
			tg.MCP.Tap = fixedTap{"rt-0123456789abcdefghijklmnop"}
		}
	}
	tests := map[string]tc{
		"PRMPath ok":                      {check: PRMPath, mode: ex, want: grade.Pass},
		"PRMExactResource ok":             {check: PRMExactResource, mode: ex, want: grade.Pass},
		"PRMExactResource trailing slash": {check: PRMExactResource, mode: ex, flaws: flaws{prmTrailingSlash: true}, want: grade.Fail},
		"PRMBothLocations ok":             {check: PRMBothLocations, mode: ex, want: grade.Pass},
		"PRMBothLocations no root":        {check: PRMBothLocations, mode: ex, flaws: flaws{noRootPRM: true}, want: grade.Fail},
		"PRMPath basic mode":              {check: PRMPath, mode: grade.ModeBasic, want: grade.NA},

		"NoTokenChallenge ok":                   {check: NoTokenChallenge, mode: ex, want: grade.Pass},
		"NoTokenChallenge no resource_metadata": {check: NoTokenChallenge, mode: ex, flaws: flaws{noResourceMeta: true}, want: grade.Fail},
		"NoTokenChallenge foreign metadata":     {check: NoTokenChallenge, mode: ex, flaws: flaws{prmResource: "https://elsewhere.example/mcp"}, want: grade.Fail},
		"NoTokenNoErrorCode ok":                 {check: NoTokenNoErrorCode, mode: ex, want: grade.Pass},
		"NoTokenNoErrorCode error sent":         {check: NoTokenNoErrorCode, mode: ex, flaws: flaws{errorWithoutToken: true}, want: grade.Fail},
		"ChallengeScope ok":                     {check: ChallengeScope, mode: ex, want: grade.Pass},
		"ChallengeScope missing":                {check: ChallengeScope, mode: ex, flaws: flaws{noChallengeScope: true}, want: grade.Fail},
		"MalformedToken ok":                     {check: MalformedToken, mode: ex, want: grade.Pass},
		"InvalidTokenChallenge ok":              {check: InvalidTokenChallenge, mode: ex, want: grade.Pass},
		"InvalidTokenChallenge no error":        {check: InvalidTokenChallenge, mode: ex, flaws: flaws{noInvalidToken: true}, want: grade.Fail},
		"InvalidTokenChallenge no scope":        {check: InvalidTokenChallenge, mode: ex, flaws: flaws{noChallengeScope: true}, want: grade.Fail},

		"ModuleRoundTrip ok":        {check: ModuleRoundTrip, mode: ex, want: grade.Pass},
		"ModuleRoundTrip forgetful": {check: ModuleRoundTrip, mode: ex, flaws: flaws{forgetful: true}, want: grade.Fail},

		"WrongIssuer ok":             {check: WrongIssuer, mode: ex, want: grade.Pass},
		"WrongIssuer accepted":       {check: WrongIssuer, mode: ex, flaws: flaws{anyIssuer: true}, want: grade.Fail},
		"WrongAudience ok":           {check: WrongAudience, mode: ex, want: grade.Pass},
		"WrongAudience accepted":     {check: WrongAudience, mode: ex, flaws: flaws{anyAudience: true}, want: grade.Fail},
		"NextcloudAudience ok":       {check: NextcloudAudience, mode: ex, want: grade.Pass},
		"NextcloudAudience accepted": {check: NextcloudAudience, mode: ex, flaws: flaws{anyAudience: true}, want: grade.Fail},
		"UnknownKey ok":              {check: UnknownKey, mode: ex, want: grade.Pass},
		"UnknownKey accepted":        {check: UnknownKey, mode: ex, flaws: flaws{anyKey: true}, want: grade.Fail},
		"TamperedToken ok":           {check: TamperedToken, mode: ex, want: grade.Pass},
		"TamperedToken accepted":     {check: TamperedToken, mode: ex, flaws: flaws{anyKey: true}, want: grade.Fail},
		"AlgNone ok":                 {check: AlgNone, mode: ex, want: grade.Pass},
		"AlgNone accepted":           {check: AlgNone, mode: ex, flaws: flaws{anyKey: true}, want: grade.Fail},
		"HS256Confusion ok":          {check: HS256Confusion, mode: ex, want: grade.Pass},
		"HS256Confusion accepted":    {check: HS256Confusion, mode: ex, flaws: flaws{anyKey: true}, want: grade.Fail},
		"Expired ok":                 {check: Expired, mode: ex, want: grade.Pass},
		"Expired accepted":           {check: Expired, mode: ex, flaws: flaws{ignoreExp: true}, want: grade.Fail},
		"NotYetValid ok":             {check: NotYetValid, mode: ex, want: grade.Pass},
		"NotYetValid accepted":       {check: NotYetValid, mode: ex, flaws: flaws{ignoreNbf: true}, want: grade.Fail},
		"WrongAudience no control": {check: WrongAudience, mode: ex, want: grade.NA,
			setup: func(_ *testing.T, tg *grade.Target) { tg.MCP.IdPControl = nil }},

		"PrivateResults ok":      {check: PrivateResults, mode: ex, want: grade.Pass},
		"PrivateResults public":  {check: PrivateResults, mode: ex, flaws: flaws{publicCache: true}, want: grade.Fail},
		"BatchCap ok":            {check: BatchCap, mode: ex, want: grade.Pass},
		"BatchCap unbounded":     {check: BatchCap, mode: ex, flaws: flaws{noLimits: true}, want: grade.Fail},
		"SessionCap ok":          {check: SessionCap, mode: ex, want: grade.Pass},
		"SessionCap unbounded":   {check: SessionCap, mode: ex, flaws: flaws{noLimits: true}, want: grade.Fail},
		"UserlessToken ok":       {check: UserlessToken, mode: ex, want: grade.Pass},
		"UserlessToken accepted": {check: UserlessToken, mode: ex, flaws: flaws{acceptUserless: true}, want: grade.Fail},

		"QueryToken ok":                      {check: QueryToken, mode: ex, want: grade.Pass},
		"QueryToken accepted":                {check: QueryToken, mode: ex, flaws: flaws{queryToken: true}, want: grade.Fail},
		"QueryToken only the SDK refuses":    {check: QueryToken, mode: ex, flaws: flaws{queryTokenInner: true}, want: grade.Fail},
		"SessionNotAuthentication ok":        {check: SessionNotAuthentication, mode: ex, want: grade.Pass},
		"SessionNotAuthentication violation": {check: SessionNotAuthentication, mode: ex, flaws: flaws{sessionIsAuth: true}, want: grade.Fail},
		"SessionBoundToUser ok":              {check: SessionBoundToUser, mode: ex, want: grade.Pass},
		"SessionBoundToUser unbound":         {check: SessionBoundToUser, mode: ex, flaws: flaws{noSessionBinding: true}, want: grade.Fail},

		"OriginValidation ok":         {check: OriginValidation, mode: ex, want: grade.Pass},
		"OriginValidation any origin": {check: OriginValidation, mode: ex, flaws: flaws{noOriginCheck: true}, want: grade.Fail},

		"ListFiltering ok":                  {check: ListFiltering, mode: ex, want: grade.Pass},
		"ListFiltering lists everything":    {check: ListFiltering, mode: ex, flaws: flaws{listAll: true}, want: grade.Fail},
		"CallTimeScope ok":                  {check: CallTimeScope, mode: ex, want: grade.Pass},
		"CallTimeScope only list filtering": {check: CallTimeScope, mode: ex, flaws: flaws{noCallCheck: true}, want: grade.Fail},
		"CallTimeScope drops granted":       {check: CallTimeScope, mode: ex, flaws: flaws{challengeRequired: true}, want: grade.Fail},
		"InsufficientScopeShape ok":         {check: InsufficientScopeShape, mode: ex, want: grade.Pass},
		"InsufficientScopeShape no meta":    {check: InsufficientScopeShape, mode: ex, flaws: flaws{noResourceMeta: true}, want: grade.Fail},

		"NoTokenPassthrough exchange":          {check: NoTokenPassthrough, mode: ex, want: grade.Pass},
		"NoTokenPassthrough exchange forwards": {check: NoTokenPassthrough, mode: ex, flaws: flaws{passthrough: true}, want: grade.Fail},
		"NoTokenPassthrough passthrough warns": {check: NoTokenPassthrough, mode: pt, want: grade.Warn},
		"ExchangedToken ok":                    {check: ExchangedToken, mode: ex, want: grade.Pass},
		"ExchangedToken forwards":              {check: ExchangedToken, mode: ex, flaws: flaws{passthrough: true}, want: grade.Fail},
		"ExchangedToken passthrough mode":      {check: ExchangedToken, mode: pt, want: grade.NA},
		"ExchangePerCall ok":                   {check: ExchangePerCall, mode: ex, want: grade.Pass},
		"ExchangePerCall reused token":         {check: ExchangePerCall, mode: ex, flaws: flaws{reuseJTI: true}, want: grade.Fail},
		"NoSilentFallback ok":                  {check: NoSilentFallback, mode: ex, want: grade.Pass},
		"NoSilentFallback falls back":          {check: NoSilentFallback, mode: ex, flaws: flaws{fallback: true}, want: grade.Fail},
		"PassthroughExact ok":                  {check: PassthroughExact, mode: pt, want: grade.Pass},
		"PassthroughExact exchange mode":       {check: PassthroughExact, mode: ex, want: grade.NA},
		"UIDFromNextcloud ok":                  {check: UIDFromNextcloud, mode: ex, want: grade.Pass},
		"UIDFromNextcloud guessed":             {check: UIDFromNextcloud, mode: ex, flaws: flaws{guessUID: true}, want: grade.Fail},
		"NoSecretsLeak ok":                     {check: NoSecretsLeak, mode: ex, want: grade.Pass, setup: warmUp},
		"NoSecretsLeak token in result":        {check: NoSecretsLeak, mode: ex, flaws: flaws{leakToken: true}, want: grade.Fail, setup: warmUp},

		"UnprovisionedRefused ok":           {check: UnprovisionedRefused, mode: ex, consent: true, want: grade.Pass},
		"UnprovisionedRefused no gate":      {check: UnprovisionedRefused, mode: ex, consent: true, flaws: flaws{noProvisionGate: true}, want: grade.Fail},
		"ForeignAccount stored":             {check: ForeignAccount, mode: ex, consent: true, flaws: flaws{foreignAccount: true}, want: grade.Fail},
		"PKCEAndState ok":                   {check: PKCEAndState, mode: ex, consent: true, want: grade.Pass},
		"PKCEAndState plain":                {check: PKCEAndState, mode: ex, consent: true, flaws: flaws{plainPKCE: true}, want: grade.Fail},
		"ForeignState ok":                   {check: ForeignState, mode: ex, consent: true, want: grade.Pass},
		"ForeignState accepted":             {check: ForeignState, mode: ex, consent: true, flaws: flaws{anyState: true}, want: grade.Fail},
		"CallbackReplay ok":                 {check: CallbackReplay, mode: ex, consent: true, want: grade.Pass},
		"CallbackReplay accepted":           {check: CallbackReplay, mode: ex, consent: true, flaws: flaws{reusableState: true}, want: grade.Fail},
		"ForeignAccount ok":                 {check: ForeignAccount, mode: ex, consent: true, want: grade.Pass},
		"NoRefreshDuringCalls ok":           {check: NoRefreshDuringCalls, mode: ex, consent: true, want: grade.Pass},
		"NoRefreshDuringCalls refreshes":    {check: NoRefreshDuringCalls, mode: ex, consent: true, flaws: flaws{refreshPerCall: true}, want: grade.Fail},
		"NoRefreshDuringCalls cached grant": {check: NoRefreshDuringCalls, mode: ex, consent: true, flaws: flaws{refreshCached: true}, want: grade.Fail},
		"NoRefreshDuringCalls consent off":  {check: NoRefreshDuringCalls, mode: ex, want: grade.NA},
		"EncryptedAtRest ok":                {check: EncryptedAtRest, mode: ex, consent: true, want: grade.Pass, setup: dbWith("SQLite format 3\x00\x8f\x13ciphertext")},
		"EncryptedAtRest plaintext refresh": {check: EncryptedAtRest, mode: ex, consent: true, want: grade.Fail, setup: dbWith("SQLite format 3\x00rt-0123456789abcdefghijklmnop")},
		"EncryptedAtRest plaintext JWT":     {check: EncryptedAtRest, mode: ex, consent: true, want: grade.Fail, setup: dbWith("x eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln x")},
		"EncryptedAtRest no database":       {check: EncryptedAtRest, mode: ex, consent: true, want: grade.NA},
		"RevokeAtIdP ok":                    {check: RevokeAtIdP, mode: ex, consent: true, want: grade.Pass},
		"RevokeAtIdP local delete only":     {check: RevokeAtIdP, mode: ex, consent: true, flaws: flaws{noRefreshRevoke: true}, want: grade.Fail},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, tg := newHarness(t, tt.mode, tt.consent, tt.flaws)
			if tt.setup != nil {
				tt.setup(t, tg)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			o := tt.check(ctx, tg)
			if o.Status != tt.want {
				t.Fatalf("%s, want %s: %s", o.Status, tt.want, o.Evidence)
			}
			if o.Evidence == "" {
				t.Fatal("no evidence")
			}
		})
	}
}

// warmUp makes a few tool calls so the leak check has answers to scan.
func warmUp(t *testing.T, tg *grade.Target) {
	t.Helper()
	ctx := context.Background()
	c, tok, p, err := ready(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	_ = tok
	if _, err := callTool(ctx, c, p.Tool, p.Args); err != nil {
		t.Fatal(err)
	}
}

package files

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud"
	ncfiles "github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/nextcloud/files"
	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/server/tools"
)

// Files tool names (upstream).
const (
	ToolListDirectory   = "nc_webdav_list_directory"
	ToolReadFile        = "nc_webdav_read_file"
	ToolWriteFile       = "nc_webdav_write_file"
	ToolCreateDirectory = "nc_webdav_create_directory"
	ToolDeleteResource  = "nc_webdav_delete_resource"
	ToolMoveResource    = "nc_webdav_move_resource"
	ToolCopyResource    = "nc_webdav_copy_resource"
	ToolSearchFiles     = "nc_webdav_search_files"
	ToolFindByName      = "nc_webdav_find_by_name"
	ToolFindByType      = "nc_webdav_find_by_type"
	ToolListFavorites   = "nc_webdav_list_favorites"
)

// Argument bounds.
const (
	MaxPatternBytes     = 512
	MaxContentTypeBytes = 255
	MaxETagBytes        = 256
)

// Encodings of read_file's content and write_file's input.
const (
	EncodingText   = "text"
	EncodingBase64 = "base64"
)

// ---- inputs ----

// PathInput is the argument of the tools that take one path.
type PathInput struct {
	Path string `json:"path" jsonschema:"Path relative to the root of the user's files, e.g. Documents/report.md (no .. segments, URLs or backslashes)."`
}

// ListDirectoryInput is nc_webdav_list_directory's argument.
type ListDirectoryInput struct {
	Path string `json:"path,omitempty" jsonschema:"Folder to list, relative to the root of the user's files; empty for the root."`
}

// WriteFileInput is nc_webdav_write_file's arguments.
type WriteFileInput struct {
	Path    string `json:"path" jsonschema:"File to create or replace, relative to the root of the user's files; its folder must exist."`
	Content string `json:"content" jsonschema:"The new content: text, or base64 when encoding is base64 (or content_type ends with ;base64, as upstream accepted)."`
	// ContentType is upstream's; "…;base64" marks base64 content.
	ContentType string `json:"content_type,omitempty" jsonschema:"Media type of the content, e.g. text/markdown; Nextcloud derives the stored type from the file name. A suffix ;base64 means the content is base64."`
	IfMatch     string `json:"if_match,omitempty" jsonschema:"Replace the file only if its etag is still this one (from nc_webdav_read_file or a listing); if it changed, nothing is written."`
	CreateOnly  bool   `json:"create_only,omitempty" jsonschema:"Only create a new file: fail, writing nothing, if the path exists."`
	Encoding    string `json:"encoding,omitempty" jsonschema:"text (default) or base64 (for binary files)."`
}

// TransferInput is the arguments of move and copy.
type TransferInput struct {
	SourcePath      string `json:"source_path" jsonschema:"File or folder to move or copy, relative to the root of the user's files."`
	DestinationPath string `json:"destination_path" jsonschema:"The new path, including the name; its folder must exist."`
	Overwrite       bool   `json:"overwrite,omitempty" jsonschema:"Replace an existing destination; without it an existing destination is an error."`
}

// SearchFilesInput is nc_webdav_search_files's arguments.
type SearchFilesInput struct {
	Scope         string `json:"scope,omitempty" jsonschema:"Folder to search in, recursively; empty for all files."`
	NamePattern   string `json:"name_pattern,omitempty" jsonschema:"Name pattern: * any run of characters and ? one character (SQL % and _ work too), case-insensitive; without a wildcard, names containing it."`
	MimeType      string `json:"mime_type,omitempty" jsonschema:"Media type, exact (application/pdf) or a prefix ending with / (image/)."`
	OnlyFavorites bool   `json:"only_favorites,omitempty" jsonschema:"Only the user's favourites."`
	Limit         int    `json:"limit,omitempty" jsonschema:"At most this many results, 1 to 500 (default 50)."`
}

// FindByNameInput is nc_webdav_find_by_name's arguments.
type FindByNameInput struct {
	Pattern string `json:"pattern" jsonschema:"Name pattern: * any run of characters and ? one character (SQL % and _ work too), case-insensitive; without a wildcard, names containing it."`
	Scope   string `json:"scope,omitempty" jsonschema:"Folder to search in, recursively; empty for all files."`
	Limit   int    `json:"limit,omitempty" jsonschema:"At most this many results, 1 to 500 (default 50)."`
}

// FindByTypeInput is nc_webdav_find_by_type's arguments.
type FindByTypeInput struct {
	MimeType string `json:"mime_type" jsonschema:"Media type, exact (application/pdf) or a prefix ending with / (image/)."`
	Scope    string `json:"scope,omitempty" jsonschema:"Folder to search in, recursively; empty for all files."`
	Limit    int    `json:"limit,omitempty" jsonschema:"At most this many results, 1 to 500 (default 50)."`
}

// ListFavoritesInput is nc_webdav_list_favorites's arguments.
type ListFavoritesInput struct {
	Scope string `json:"scope,omitempty" jsonschema:"Folder to search in, recursively; empty for all files."`
	Limit int    `json:"limit,omitempty" jsonschema:"At most this many results, 1 to 500 (default 50)."`
}

// ---- outputs ----

// Entry is a file or folder.
type Entry struct {
	Name         string `json:"name" jsonschema:"Name; empty for the root."`
	Path         string `json:"path" jsonschema:"Path relative to the root of the user's files."`
	IsDirectory  bool   `json:"is_directory" jsonschema:"True for a folder."`
	Size         int64  `json:"size" jsonschema:"Bytes; for a folder everything in it."`
	ContentType  string `json:"content_type" jsonschema:"Media type; empty for folders."`
	ETag         string `json:"etag" jsonschema:"Version tag; pass it as if_match to nc_webdav_write_file."`
	FileID       int64  `json:"file_id" jsonschema:"Nextcloud's file id."`
	LastModified string `json:"last_modified" jsonschema:"Last modification (RFC 3339, UTC); empty when unknown."`
	Favorite     bool   `json:"favorite" jsonschema:"Whether the user marked it as a favourite."`
}

func entry(fi ncfiles.Info) Entry {
	e := Entry{Name: fi.Name, Path: fi.Path, IsDirectory: fi.IsDir, Size: fi.Size, ContentType: fi.ContentType,
		ETag: fi.ETag, FileID: fi.FileID, Favorite: fi.Favorite}
	if !fi.LastModified.IsZero() {
		e.LastModified = fi.LastModified.UTC().Format(time.RFC3339)
	}
	return e
}

// Totals count a list of entries.
type Totals struct {
	TotalCount     int   `json:"total_count" jsonschema:"Entries listed."`
	FileCount      int   `json:"file_count" jsonschema:"Files among them."`
	DirectoryCount int   `json:"directory_count" jsonschema:"Folders among them."`
	TotalSize      int64 `json:"total_size" jsonschema:"Their sizes added up, in bytes."`
}

func totals(es []Entry) Totals {
	t := Totals{TotalCount: len(es)}
	for _, e := range es {
		if e.IsDirectory {
			t.DirectoryCount++
		} else {
			t.FileCount++
		}
		t.TotalSize += e.Size
	}
	return t
}

// ListDirectoryOutput answers nc_webdav_list_directory.
type ListDirectoryOutput struct {
	tools.Status
	Path  string  `json:"path" jsonschema:"The folder listed."`
	Files []Entry `json:"files" jsonschema:"Its direct children, folders first, then by name."`
	Totals
}

// ReadFileOutput answers nc_webdav_read_file.
type ReadFileOutput struct {
	tools.Status
	Entry
	Encoding string `json:"encoding" jsonschema:"text, or base64 for binary content (or text that is not valid UTF-8)."`
	Content  string `json:"content" jsonschema:"The content, as encoding says."`
}

// WriteFileOutput answers nc_webdav_write_file.
type WriteFileOutput struct {
	tools.Status
	File    Entry `json:"file" jsonschema:"The file as written; its etag is the new version."`
	Created bool  `json:"created" jsonschema:"True for a new file, false for a replaced one."`
	Bytes   int64 `json:"bytes" jsonschema:"Bytes written."`
	Chunks  int   `json:"chunks" jsonschema:"Chunks of a chunked upload; 0 for a single request."`
}

// CreateDirectoryOutput answers nc_webdav_create_directory.
type CreateDirectoryOutput struct {
	tools.Status
	Directory Entry `json:"directory" jsonschema:"The new folder."`
}

// DeleteOutput answers nc_webdav_delete_resource.
type DeleteOutput struct {
	tools.Status
	Path    string `json:"path" jsonschema:"The deleted path."`
	Message string `json:"message" jsonschema:"What happened."`
}

// TransferOutput answers move and copy.
type TransferOutput struct {
	tools.Status
	SourcePath      string `json:"source_path" jsonschema:"The source."`
	DestinationPath string `json:"destination_path" jsonschema:"The destination."`
	Overwritten     bool   `json:"overwritten" jsonschema:"True when an existing destination was replaced."`
	File            Entry  `json:"file" jsonschema:"The destination after the operation."`
}

// SearchOutput answers the search tools.
type SearchOutput struct {
	tools.Status
	Scope   string  `json:"scope" jsonschema:"The folder searched; empty for all files."`
	Results []Entry `json:"results" jsonschema:"What matched, most recently modified first."`
	Totals
	Truncated bool `json:"truncated" jsonschema:"True when the limit was reached: there may be more; raise limit or narrow the search."`
}

// ---- validation (before any client is obtained: nothing is sent) ----

func checkPath(field, p string, create bool) error {
	var err error
	if create {
		_, err = ncfiles.CleanNew(p)
	} else {
		_, err = ncfiles.Clean(p)
	}
	if err != nil {
		return fmt.Errorf("%s: %s", field, userText(err))
	}
	return nil
}

// userText drops the client's sentinel prefix from a path error.
func userText(err error) string {
	return strings.TrimPrefix(err.Error(), nextcloud.ErrInvalidPath.Error()+" ")
}

func checkLimit(limit int) error {
	if limit < 0 || limit > ncfiles.MaxSearchLimit {
		return fmt.Errorf("limit must be between 1 and %d (0 or omitted: %d), got %d", ncfiles.MaxSearchLimit, ncfiles.DefaultSearchLimit, limit)
	}
	return nil
}

func checkPattern(field, p string, required bool) error {
	switch {
	case required && strings.TrimSpace(p) == "":
		return fmt.Errorf("%s must not be empty", field)
	case len(p) > MaxPatternBytes:
		return fmt.Errorf("%s is %d bytes long; at most %d are allowed", field, len(p), MaxPatternBytes)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 32 || r == 0x7f }):
		return fmt.Errorf("%s must not contain control characters", field)
	}
	return nil
}

func checkMIME(field, m string, required bool) error {
	if err := checkPattern(field, m, required); err != nil {
		return err
	}
	if m == "" {
		return nil
	}
	typ, sub, ok := strings.Cut(m, "/")
	if !ok || typ == "" || strings.ContainsAny(m, " %_*;") || strings.Contains(sub, "/") {
		return fmt.Errorf("%s %q must be a media type such as application/pdf, or a prefix such as image/", field, m)
	}
	return nil
}

// Validate checks a path argument: it must name something below the
// root (the root is listed, never read or deleted).
func (in PathInput) Validate() error {
	if err := checkPath("path", in.Path, false); err != nil {
		return err
	}
	if p, _ := ncfiles.Clean(in.Path); p == "" {
		return errors.New("path must name a file or folder below the root of your files")
	}
	return nil
}

// CreateDirectoryInput is nc_webdav_create_directory's argument.
type CreateDirectoryInput struct {
	Path string `json:"path" jsonschema:"Folder to create, relative to the root of the user's files; its parent must exist."`
}

// Validate checks the new folder's path and name.
func (in CreateDirectoryInput) Validate() error { return checkPath("path", in.Path, true) }

// Validate checks nc_webdav_list_directory's argument.
func (in ListDirectoryInput) Validate() error { return checkPath("path", in.Path, false) }

// Validate checks nc_webdav_write_file's arguments, decoding base64
// content so that bad input is refused before anything is sent.
func (in WriteFileInput) Validate() error {
	_, err := in.decode()
	return err
}

// encoding settles the content's encoding: the explicit field, else
// upstream's ";base64" suffix of content_type.
func (in WriteFileInput) encoding() (string, error) {
	suffix := strings.HasSuffix(strings.ToLower(strings.TrimSpace(in.ContentType)), ";base64")
	switch in.Encoding {
	case "":
		if suffix {
			return EncodingBase64, nil
		}
		return EncodingText, nil
	case EncodingText:
		if suffix {
			return "", errors.New("content_type says ;base64 but encoding is text: choose one")
		}
		return EncodingText, nil
	case EncodingBase64:
		return EncodingBase64, nil
	}
	return "", fmt.Errorf("encoding must be %q or %q, got %q", EncodingText, EncodingBase64, in.Encoding)
}

// contentType is the media type to send, without upstream's ";base64".
func (in WriteFileInput) contentType() string {
	ct := strings.TrimSpace(in.ContentType)
	if i := strings.LastIndex(strings.ToLower(ct), ";base64"); i >= 0 && i == len(ct)-len(";base64") {
		ct = strings.TrimSpace(ct[:i])
	}
	return ct
}

// decode checks every argument and returns the bytes to write.
func (in WriteFileInput) decode() ([]byte, error) {
	if err := checkPath("path", in.Path, true); err != nil {
		return nil, err
	}
	enc, err := in.encoding()
	if err != nil {
		return nil, err
	}
	if ct := in.contentType(); ct != "" {
		if len(ct) > MaxContentTypeBytes {
			return nil, fmt.Errorf("content_type is %d bytes long; at most %d are allowed", len(ct), MaxContentTypeBytes)
		}
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			return nil, fmt.Errorf("content_type %q is not a media type: %v", ct, err)
		}
	}
	if err := checkETag(in.IfMatch); err != nil {
		return nil, err
	}
	if in.IfMatch != "" && in.CreateOnly {
		return nil, errors.New("if_match and create_only exclude each other: one replaces the version you read, the other only creates")
	}
	if enc == EncodingText {
		if strings.ContainsRune(in.Content, 0) {
			return nil, errors.New("content holds NUL bytes, so it is binary: send it base64-encoded with encoding base64")
		}
		return []byte(in.Content), nil
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(in.Content))
	if err != nil {
		// Some clients drop the padding.
		if raw, rerr := base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(in.Content), "=")); rerr == nil {
			return raw, nil
		}
		return nil, fmt.Errorf("content is not valid base64: %v", err)
	}
	return data, nil
}

func checkETag(e string) error {
	switch {
	case e == "":
		return nil
	case strings.TrimSpace(strings.Trim(nextcloud.UnquoteETag(e), `"`)) == "":
		return errors.New("if_match must be an etag from nc_webdav_read_file or a listing, or omitted")
	case len(e) > MaxETagBytes:
		return fmt.Errorf("if_match is %d bytes long; at most %d are allowed", len(e), MaxETagBytes)
	case strings.ContainsFunc(e, func(r rune) bool { return r < 32 || r == 0x7f || r == ',' }) || e == "*":
		return errors.New("if_match must be a single etag (no lists, no *, no control characters)")
	}
	return nil
}

// Validate checks the arguments of move and copy.
func (in TransferInput) Validate() error {
	return errors.Join(checkPath("source_path", in.SourcePath, false), checkPath("destination_path", in.DestinationPath, true))
}

// Validate checks nc_webdav_search_files's arguments.
func (in SearchFilesInput) Validate() error {
	return errors.Join(checkPath("scope", in.Scope, false), checkPattern("name_pattern", in.NamePattern, false),
		checkMIME("mime_type", in.MimeType, false), checkLimit(in.Limit))
}

// Validate checks nc_webdav_find_by_name's arguments.
func (in FindByNameInput) Validate() error {
	return errors.Join(checkPath("scope", in.Scope, false), checkPattern("pattern", in.Pattern, true), checkLimit(in.Limit))
}

// Validate checks nc_webdav_find_by_type's arguments.
func (in FindByTypeInput) Validate() error {
	return errors.Join(checkPath("scope", in.Scope, false), checkMIME("mime_type", in.MimeType, true), checkLimit(in.Limit))
}

// Validate checks nc_webdav_list_favorites's arguments.
func (in ListFavoritesInput) Validate() error {
	return errors.Join(checkPath("scope", in.Scope, false), checkLimit(in.Limit))
}

// likePattern turns a name pattern into SQL LIKE: * and ? become % and _;
// a pattern without any wildcard matches names containing it.
func likePattern(p string) string {
	p = strings.NewReplacer("*", "%", "?", "_").Replace(p)
	if !strings.ContainsAny(p, "%_") {
		p = "%" + p + "%"
	}
	return p
}

// ---- the tools ----

// withExamples infers In's input schema as the SDK would and gives
// properties examples of valid values: for the model reading the schema,
// and for clients (the conformance suite among them) that synthesize
// arguments from it.
func withExamples[In any](examples map[string]any) *jsonschema.Schema {
	s, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("files: input schema of %T: %v", *new(In), err))
	}
	for name, ex := range examples {
		p, ok := s.Properties[name]
		if !ok {
			panic(fmt.Sprintf("files: %T has no property %q", *new(In), name))
		}
		p.Examples = []any{ex}
	}
	return s
}

// searchExamples are list_favorites'; paths get none, so that no
// synthesized call names a folder the user has.
var searchExamples = map[string]any{"limit": ncfiles.DefaultSearchLimit}

func toolList() []tools.Tool {
	closed := tools.Ptr(false)
	read := &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: closed}
	return []tools.Tool{
		tools.NC(mcp.Tool{
			Name:        ToolListDirectory,
			Title:       "List folder",
			Description: "List a folder of the user's Nextcloud files: every child's name, path, type, size, media type, etag, file id, modification time and favourite flag, with totals.",
			Annotations: read,
		}, listDirectory),
		tools.NC(mcp.Tool{
			Name:  ToolReadFile,
			Title: "Read file",
			Description: "Read a file: text files as text, anything else base64-encoded with its media type, plus its etag (for a safe overwrite) and properties. " +
				"Files above the server's read limit are refused.",
			Annotations: read,
		}, readFile),
		tools.Func(mcp.Tool{
			Name:        ToolWriteFile,
			InputSchema: withExamples[WriteFileInput](map[string]any{"content_type": "text/markdown", "encoding": EncodingText}),
			Title:       "Write file",
			Description: "Create or replace a file with text or base64 content. Pass the etag you read as if_match to overwrite only that version " +
				"(if the file changed, nothing is written), or create_only to never replace. Large files are uploaded in chunks, with progress notifications.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), IdempotentHint: true, OpenWorldHint: closed},
		}, writeFile),
		tools.NC(mcp.Tool{
			Name:        ToolCreateDirectory,
			Title:       "Create folder",
			Description: "Create a folder; its parent must exist, and an existing path is an error.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(false), OpenWorldHint: closed},
		}, createDirectory),
		tools.NC(mcp.Tool{
			Name:        ToolDeleteResource,
			Title:       "Delete file or folder",
			Description: "Delete a file, or a folder with everything in it (into Nextcloud's trash bin when that app is enabled).",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), IdempotentHint: true, OpenWorldHint: closed},
		}, deleteResource),
		tools.NC(mcp.Tool{
			Name:        ToolMoveResource,
			Title:       "Move or rename",
			Description: "Move or rename a file or folder. An existing destination is an error unless overwrite is true.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), OpenWorldHint: closed},
		}, moveResource),
		tools.NC(mcp.Tool{
			Name:        ToolCopyResource,
			Title:       "Copy",
			Description: "Copy a file, or a folder with everything in it. An existing destination is an error unless overwrite is true.",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: tools.Ptr(true), OpenWorldHint: closed},
		}, copyResource),
		tools.NC(mcp.Tool{
			Name:        ToolSearchFiles,
			InputSchema: withExamples[SearchFilesInput](map[string]any{"limit": ncfiles.DefaultSearchLimit, "name_pattern": "*.md", "mime_type": "application/pdf"}),
			Title:       "Search files",
			Description: "Search the user's files below a folder by name pattern, media type and/or favourite flag (all given conditions must hold); " +
				"without any condition, everything below the folder.",
			Annotations: read,
		}, searchFiles),
		tools.NC(mcp.Tool{
			Name:        ToolFindByName,
			InputSchema: withExamples[FindByNameInput](map[string]any{"limit": ncfiles.DefaultSearchLimit, "pattern": "report*"}),
			Title:       "Find files by name",
			Description: "Find files and folders whose name matches a pattern (* and ? wildcards; without one, names containing the text).",
			Annotations: read,
		}, findByName),
		tools.NC(mcp.Tool{
			Name:        ToolFindByType,
			InputSchema: withExamples[FindByTypeInput](map[string]any{"limit": ncfiles.DefaultSearchLimit, "mime_type": "image/"}),
			Title:       "Find files by type",
			Description: "Find files of a media type (application/pdf) or a family of them (image/).",
			Annotations: read,
		}, findByType),
		tools.NC(mcp.Tool{
			Name:        ToolListFavorites,
			InputSchema: withExamples[ListFavoritesInput](searchExamples),
			Title:       "List favourites",
			Description: "List the files and folders the user marked as favourites.",
			Annotations: read,
		}, listFavorites),
	}
}

func listDirectory(ctx context.Context, c *nextcloud.Client, in ListDirectoryInput) (ListDirectoryOutput, error) {
	l, err := ncfiles.New(c).List(ctx, in.Path)
	if err != nil {
		return ListDirectoryOutput{}, err
	}
	out := ListDirectoryOutput{Status: tools.OK(ctx), Path: l.Folder.Path, Files: make([]Entry, 0, len(l.Children))}
	for _, fi := range l.Children {
		out.Files = append(out.Files, entry(fi))
	}
	out.Totals = totals(out.Files)
	return out, nil
}

func readFile(ctx context.Context, c *nextcloud.Client, in PathInput) (ReadFileOutput, error) {
	f, err := read(ctx, c, in.Path)
	if err != nil {
		return ReadFileOutput{}, err
	}
	out := ReadFileOutput{Status: tools.OK(ctx), Entry: entry(f.Info)}
	if isText(f.Info.ContentType, f.Data) {
		out.Encoding, out.Content = EncodingText, string(f.Data)
	} else {
		out.Encoding, out.Content = EncodingBase64, base64.StdEncoding.EncodeToString(f.Data)
	}
	return out, nil
}

// read reads a file within the server's read limit, naming the setting
// when the file is too large.
func read(ctx context.Context, c *nextcloud.Client, p string) (*ncfiles.File, error) {
	f, err := ncfiles.New(c).Read(ctx, p, tools.FileLimits(ctx).MaxReadBytes)
	var tl *ncfiles.TooLargeError
	if errors.As(err, &tl) {
		return nil, fmt.Errorf("%w; the limit is the server setting FILES_MAX_READ_BYTES", err)
	}
	return f, err
}

// textTypes are the non-text/* media types whose content is text.
var textTypes = map[string]bool{
	"application/json": true, "application/xml": true, "application/javascript": true, "application/x-yaml": true,
	"application/yaml": true, "application/x-sh": true, "application/sql": true, "application/x-php": true,
	"application/ld+json": true, "application/xhtml+xml": true, "image/svg+xml": true,
}

// isText decides how read_file returns content: as text only when its
// media type says text and it is valid UTF-8 without NUL bytes; anything
// else (binary, or "text" that is not) goes base64, which loses nothing.
func isText(contentType string, data []byte) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	textual := strings.HasPrefix(mt, "text/") || textTypes[mt] || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
	return textual && utf8.Valid(data) && !strings.ContainsRune(string(data), 0)
}

// writeFile needs the raw request for progress notifications.
func writeFile(ctx context.Context, req *mcp.CallToolRequest, in WriteFileInput) (*mcp.CallToolResult, WriteFileOutput, error) {
	data, err := in.decode()
	if err != nil {
		return nil, WriteFileOutput{}, err
	}
	c, err := tools.Client(ctx)
	if err != nil {
		return nil, WriteFileOutput{}, err
	}
	o := ncfiles.WriteOptions{ContentType: in.contentType(), IfMatch: in.IfMatch, CreateOnly: in.CreateOnly,
		ChunkSize: tools.FileLimits(ctx).ChunkSize, Progress: progress(ctx, req)}
	res, err := ncfiles.New(c).Write(ctx, in.Path, data, o)
	if err != nil {
		return nil, WriteFileOutput{}, err
	}
	return nil, WriteFileOutput{Status: tools.OK(ctx), File: entry(res.Info), Created: res.Created,
		Bytes: int64(len(data)), Chunks: res.Chunks}, nil
}

// progress reports a chunked upload's chunks to the client, when its
// request asked for progress (MCP notifications/progress, by token).
func progress(ctx context.Context, req *mcp.CallToolRequest) func(sent, total int64) {
	if req == nil || req.Session == nil || req.Params == nil {
		return nil
	}
	token := req.Params.GetProgressToken()
	if token == nil {
		return nil
	}
	return func(sent, total int64) {
		err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token,
			Progress: float64(sent), Total: float64(total),
			Message: fmt.Sprintf("uploaded %s of %s", ncfiles.HumanBytes(sent), ncfiles.HumanBytes(total))})
		if err != nil {
			// A lost notification does not stop the upload.
			tools.Logger(ctx).Debug("progress notification failed", "tool", ToolWriteFile, "error", err.Error())
		}
	}
}

func createDirectory(ctx context.Context, c *nextcloud.Client, in CreateDirectoryInput) (CreateDirectoryOutput, error) {
	info, err := ncfiles.New(c).Mkdir(ctx, in.Path)
	if err != nil {
		return CreateDirectoryOutput{}, err
	}
	return CreateDirectoryOutput{Status: tools.OK(ctx), Directory: entry(*info)}, nil
}

func deleteResource(ctx context.Context, c *nextcloud.Client, in PathInput) (DeleteOutput, error) {
	p, _ := ncfiles.Clean(in.Path) // checked by Validate
	if err := ncfiles.New(c).Delete(ctx, in.Path); err != nil {
		return DeleteOutput{}, err
	}
	return DeleteOutput{Status: tools.OK(ctx), Path: p, Message: fmt.Sprintf("%q deleted", p)}, nil
}

func moveResource(ctx context.Context, c *nextcloud.Client, in TransferInput) (TransferOutput, error) {
	res, err := ncfiles.New(c).Move(ctx, in.SourcePath, in.DestinationPath, in.Overwrite)
	return transferOutput(ctx, in, res, err)
}

func copyResource(ctx context.Context, c *nextcloud.Client, in TransferInput) (TransferOutput, error) {
	res, err := ncfiles.New(c).Copy(ctx, in.SourcePath, in.DestinationPath, in.Overwrite)
	return transferOutput(ctx, in, res, err)
}

func transferOutput(ctx context.Context, in TransferInput, res *ncfiles.TransferResult, err error) (TransferOutput, error) {
	if err != nil {
		return TransferOutput{}, err
	}
	src, _ := ncfiles.Clean(in.SourcePath)
	return TransferOutput{Status: tools.OK(ctx), SourcePath: src, DestinationPath: res.Info.Path,
		Overwritten: res.Overwritten, File: entry(res.Info)}, nil
}

func searchFiles(ctx context.Context, c *nextcloud.Client, in SearchFilesInput) (SearchOutput, error) {
	q := ncfiles.Query{Scope: in.Scope, MIMEType: in.MimeType, Favorites: in.OnlyFavorites, Limit: in.Limit}
	if in.NamePattern != "" {
		q.NamePattern = likePattern(in.NamePattern)
	}
	return search(ctx, c, q)
}

func findByName(ctx context.Context, c *nextcloud.Client, in FindByNameInput) (SearchOutput, error) {
	return search(ctx, c, ncfiles.Query{Scope: in.Scope, NamePattern: likePattern(in.Pattern), Limit: in.Limit})
}

func findByType(ctx context.Context, c *nextcloud.Client, in FindByTypeInput) (SearchOutput, error) {
	return search(ctx, c, ncfiles.Query{Scope: in.Scope, MIMEType: in.MimeType, Limit: in.Limit})
}

func listFavorites(ctx context.Context, c *nextcloud.Client, in ListFavoritesInput) (SearchOutput, error) {
	return search(ctx, c, ncfiles.Query{Scope: in.Scope, Favorites: true, Limit: in.Limit})
}

func search(ctx context.Context, c *nextcloud.Client, q ncfiles.Query) (SearchOutput, error) {
	res, err := ncfiles.New(c).Search(ctx, q)
	if err != nil {
		return SearchOutput{}, err
	}
	scope, _ := ncfiles.Clean(q.Scope)
	out := SearchOutput{Status: tools.OK(ctx), Scope: scope, Results: make([]Entry, 0, len(res.Results)), Truncated: res.Truncated}
	for _, fi := range res.Results {
		out.Results = append(out.Results, entry(fi))
	}
	out.Totals = totals(out.Results)
	return out, nil
}

package nextcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/fakes/nextcloud/vfs"
)

// notesApp is the Notes app (nextcloud/notes): its API v1 (and the v0.2
// reads) on index.php, settings per user, and oc_notes_meta. Notes are
// files of the user's tree below the notes folder; the note id is the file
// id.
type notesApp struct{ baseApp }

const notesID = "notes"

// notesAppVersion is the Notes app version the capabilities report.
const notesAppVersion = "4.12.0"

// notesAPIVersions is the X-Notes-API-Versions header (Application::$API_VERSIONS).
const notesAPIVersions = "0.2, 1.3, 1.4"

func (notesApp) id() string { return notesID }

func (notesApp) newState() appState {
	return &notesState{meta: map[string]map[int64]*noteMeta{}, settings: map[string]*notesSettings{}}
}

// indexRoutes are appinfo/routes.php: the API is #[CORS] (so Bearer
// requests meet CORSMiddleware), every other GET below /api is
// notes_api#fail, and OPTIONS is the CORS preflight.
func (notesApp) indexRoutes() []appRoute {
	route := func(method, pattern string, h func(*appCtx)) appRoute {
		return appRoute{method: method, re: regexp.MustCompile(`^/apps/notes/api/` + pattern + `$`), cors: true, h: h}
	}
	return []appRoute{
		route("GET", `(v0\.2|v1)/notes`, notesIndex),
		route("GET", `(v0\.2|v1)/notes/(\d+)`, notesGet),
		route("POST", `(v1)/notes`, notesCreate),
		route("PUT", `(v1)/notes/(\d+)`, notesUpdate),
		route("DELETE", `(v0\.2|v1)/notes/(\d+)`, notesDestroy),
		route("GET", `(v1)/settings`, notesGetSettings),
		route("PUT", `(v1)/settings`, notesPutSettings),
		{method: "GET", re: regexp.MustCompile(`^/apps/notes/api/.*$`), h: notesFail},
		{method: "OPTIONS", re: regexp.MustCompile(`^/apps/notes/api/(v0\.2|v1)/.+$`), public: true, h: preflightedCORS},
	}
}

// capabilities is the Notes Capabilities class: API versions, app version
// and the user's notes path (logged-in users only).
func (notesApp) capabilities(st *state, uid string) []capability {
	settings := notesOf(st).ns.settingsOf(uid)
	return []capability{{name: "notes", value: obj{{"api_version", []any{"0.2", "1.3", "1.4"}}, {"version", notesAppVersion},
		{"notes_path", settings.NotesPath}}}}
}

func (notesApp) navigation() []navEntry { return []navEntry{{id: "notes", name: "Notes", order: 10}} }

// SeedNote is a note, created as the Notes app would.
type SeedNote struct {
	Owner    string `json:"owner"`
	Title    string `json:"title"`
	Category string `json:"category,omitempty"`
	Content  string `json:"content,omitempty"`
	Favorite bool   `json:"favorite,omitempty"`
	Modified int64  `json:"modified,omitempty"`
}

// defaultSeed gives alice three notes, one in a nested category.
func (notesApp) defaultSeed(s *Seed) {
	s.Notes = append(s.Notes,
		SeedNote{Owner: "alice", Title: "Welcome", Content: "Welcome\n\nThis is your first note."},
		SeedNote{Owner: "alice", Title: "Shopping list", Category: "Personal", Content: "Shopping list\n\n- milk\n- bread", Favorite: true},
		SeedNote{Owner: "alice", Title: "Meeting notes", Category: "Work/Projects", Content: "Meeting notes\n\nDiscussed the roadmap."},
	)
}

// seed creates Seed.Notes and the notes of its section as the app would
// (titles and categories sanitised, folders created).
func (notesApp) seed(st *state, s Seed, raw json.RawMessage) error {
	list := s.Notes
	if raw != nil {
		var more []SeedNote
		if err := decodeSeed(raw, &more); err != nil {
			return fmt.Errorf("seed notes: %w", err)
		}
		list = append(append([]SeedNote{}, list...), more...)
	}
	nt := notesOf(st)
	for _, sn := range list {
		if st.users[sn.Owner] == nil {
			return fmt.Errorf("seed note %q: unknown owner %q", sn.Title, sn.Owner)
		}
		if _, err := nt.createNote(sn.Owner, sn.Title, sn.Category, sn.Content, sn.Modified, sn.Favorite); err != nil {
			return fmt.Errorf("seed note %q: %w", sn.Title, err)
		}
	}
	return nil
}

// noteMeta is the Notes app's oc_notes_meta row: the ETag it last saw for a
// note and when it saw it change.
type noteMeta struct {
	ETag       string `json:"etag"`
	LastUpdate int64  `json:"last_update"`
}

// notesSettings is the Notes app's per-user settings.
type notesSettings struct {
	NotesPath  string `json:"notesPath"`
	FileSuffix string `json:"fileSuffix"`
	NoteMode   string `json:"noteMode"`
}

func defaultNotesSettings() notesSettings {
	return notesSettings{NotesPath: "Notes", FileSuffix: ".md", NoteMode: "rich"}
}

// notesState is the Notes app's state: oc_notes_meta rows and settings,
// per user.
type notesState struct {
	meta     map[string]map[int64]*noteMeta
	settings map[string]*notesSettings
}

func (ns *notesState) settingsOf(uid string) notesSettings {
	if s := ns.settings[uid]; s != nil {
		return *s
	}
	return defaultNotesSettings()
}

// notesSnapshot is the notes section of state.json.
type notesSnapshot struct {
	// Meta is keyed by uid, then by the decimal file id.
	Meta     map[string]map[string]*noteMeta `json:"meta"`
	Settings map[string]*notesSettings       `json:"settings"`
}

func (ns *notesState) snapshot() (json.RawMessage, error) {
	doc := notesSnapshot{Meta: map[string]map[string]*noteMeta{}, Settings: ns.settings}
	for uid, metas := range ns.meta {
		m := map[string]*noteMeta{}
		for id, meta := range metas {
			m[strconv.FormatInt(id, 10)] = meta
		}
		doc.Meta[uid] = m
	}
	return json.Marshal(doc)
}

func (ns *notesState) restore(raw json.RawMessage) error {
	var doc notesSnapshot
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	for uid, metas := range doc.Meta {
		m := map[int64]*noteMeta{}
		for k, v := range metas {
			id, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return fmt.Errorf("note id %q: %w", k, err)
			}
			m[id] = v
		}
		ns.meta[uid] = m
	}
	if doc.Settings != nil {
		ns.settings = doc.Settings
	}
	return nil
}

func (ns *notesState) nodesDeleted(ids map[int64]bool) {
	for _, metas := range ns.meta {
		for id := range metas {
			if ids[id] {
				delete(metas, id)
			}
		}
	}
}

func (ns *notesState) userDeleted(uid string) {
	delete(ns.meta, uid)
	delete(ns.settings, uid)
}

// notesTx is the state as a Notes request sees it while it holds the state
// lock: the core state and the app's part.
type notesTx struct {
	*state
	ns *notesState
}

func notesOf(st *state) notesTx { return notesTx{state: st, ns: stateOf[*notesState](st, notesID)} }

// Notes errors map to Helper::handleErrorResponse's statuses; the body is
// {"errorType": get_class($e)}.
var (
	errNoteNotFound    = errors.New(`OCA\Notes\Service\NoteDoesNotExistException`)
	errNoteNotWritable = errors.New(`OCA\Notes\Service\NoteNotWritableException`)
)

var noteExtensions = map[string]bool{"txt": true, "org": true, "markdown": true, "md": true, "note": true}

// noteRef is a note file as the Notes app sees it.
type noteRef struct {
	node     *vfs.Node
	category string
	readonly bool
}

func (r noteRef) title() string {
	name := r.node.Name
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

func isNote(n *vfs.Node) bool {
	if n.Dir {
		return false
	}
	i := strings.LastIndexByte(n.Name, '.')
	return i >= 0 && noteExtensions[n.Name[i+1:]]
}

// notesFolder returns the user's notes folder, created on demand as the
// Notes app does (getAll with auto-create).
func (st notesTx) notesFolder(uid string, create bool) (*vfs.Node, error) {
	home := st.fs.Home(uid)
	if home == nil {
		return nil, errNoteNotFound
	}
	segs := splitPath(st.ns.settingsOf(uid).NotesPath)
	n, _, err := vfs.LookupFrom(home, segs)
	if err == nil && n.Dir {
		return n, nil
	}
	if !create {
		return nil, errNoteNotFound
	}
	return st.fs.MkdirAll(home, segs)
}

// notes gathers the note files below the notes folder (NotesService
// gatherNoteFiles): hidden folders are skipped, files need a note extension.
func (st notesTx) notes(uid string) []noteRef {
	folder, err := st.notesFolder(uid, true)
	if err != nil {
		return nil
	}
	var out []noteRef
	var walk func(dir *vfs.Node, category string)
	walk = func(dir *vfs.Node, category string) {
		for _, c := range dir.Children() {
			if c.Dir {
				if strings.HasPrefix(c.Name, ".") {
					continue
				}
				sub := c.Name
				if category != "" {
					sub = category + "/" + c.Name
				}
				walk(c, sub)
				continue
			}
			if isNote(c) {
				out = append(out, noteRef{node: c, category: category})
			}
		}
	}
	walk(folder, "")
	return out
}

func (st notesTx) noteByID(uid string, id int64) (noteRef, error) {
	for _, n := range st.notes(uid) {
		if n.node.ID == id {
			return n, nil
		}
	}
	return noteRef{}, errNoteNotFound
}

// noteETag is MetaService's note ETag: a hash over id, title, modified,
// category, favorite, readonly and a hash of the content.
func (st notesTx) noteETag(uid string, n noteRef) string {
	return md5hex(phpJSON([]any{n.node.ID, n.title(), n.node.MTime, n.category, st.isFavorite(uid, n.node.ID), n.readonly, md5hex(n.node.Content)}))
}

// noteMetaOf updates oc_notes_meta for n: lastUpdate moves to now whenever
// the note's ETag changed since the app last looked.
func (st notesTx) noteMetaOf(uid string, n noteRef) *noteMeta {
	metas := st.ns.meta[uid]
	if metas == nil {
		metas = map[int64]*noteMeta{}
		st.ns.meta[uid] = metas
	}
	etag := st.noteETag(uid, n)
	m := metas[n.node.ID]
	if m == nil {
		m = &noteMeta{ETag: etag, LastUpdate: st.unix()}
		metas[n.node.ID] = m
	} else if m.ETag != etag {
		m.ETag, m.LastUpdate = etag, st.unix()
	}
	return m
}

// noteData is Note::getData plus the etag, in the app's field order.
func (st notesTx) noteData(uid string, n noteRef, exclude map[string]bool) obj {
	meta := st.noteMetaOf(uid, n)
	o := obj{}
	add := func(k string, v any) {
		if !exclude[k] {
			o = append(o, kv{k, v})
		}
	}
	add("id", n.node.ID)
	add("title", n.title())
	add("modified", n.node.MTime)
	add("category", n.category)
	add("favorite", st.isFavorite(uid, n.node.ID))
	add("readonly", n.readonly)
	internal := "/" + strings.Trim(st.ns.settingsOf(uid).NotesPath, "/")
	if n.category != "" {
		internal += "/" + n.category
	}
	o = append(o, kv{"internalPath", internal + "/" + n.node.Name}, kv{"shareTypes", []any{}}, kv{"isShared", false},
		kv{"error", false}, kv{"errorType", ""})
	add("content", noteContent(n.node.Content))
	o = append(o, kv{"etag", meta.ETag})
	return o
}

// noteContent is Note::getContent: invalid UTF-8 is converted.
func noteContent(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

var (
	chunkCursorRe = regexp.MustCompile(`^(\d+)-(\d+)-(\d+)$`)
	listSepRe     = regexp.MustCompile(`,\s*`)
)

var lineBreak = regexp.MustCompile(`\r\n|\n|\r|\x0b|\x0c|\x{85}|\x{2028}|\x{2029}`)
var leadingDotsSpaces = regexp.MustCompile(`(?m)^[. ]+`)
var whitespace = regexp.MustCompile(`\s`)

// sanitisePath is NoteUtil::sanitisePath: characters illegal on Windows go,
// leading dots and spaces go (no hidden files), the rest is trimmed.
func sanitisePath(s string) string {
	s = strings.NewReplacer("*", "", "|", "", "/", "", "\\", "", ":", "", `"`, "", "<", "", ">", "", "?", "").Replace(s)
	s = leadingDotsSpaces.ReplaceAllString(s, "")
	return strings.TrimSpace(s)
}

// safeTitle is NoteUtil::getSafeTitle: sanitised, first line only, other
// whitespace as spaces, at most 100 characters, "New note" when empty.
func safeTitle(title string) string {
	title = sanitisePath(title)
	title = lineBreak.Split(title, 2)[0]
	title = strings.TrimSpace(whitespace.ReplaceAllString(title, " "))
	if utf8.RuneCountInString(title) > 100 {
		title = string([]rune(title)[:100])
	}
	title = strings.TrimSpace(title)
	if title == "" {
		title = "New note"
	}
	return title
}

var trailingNumber = regexp.MustCompile(`^(.*)\s\((\d+)\)$`)

// generateFileName is NoteUtil::generateFileName: title + suffix, with
// " (2)", " (3)" … appended while another file holds the name.
func generateFileName(folder *vfs.Node, title, suffix string, id int64) string {
	title = safeTitle(title)
	for {
		name := title + suffix
		if c := folder.Child(name); c == nil || c.ID == id {
			return name
		}
		if m := trailingNumber.FindStringSubmatch(title); m != nil {
			n, _ := strconv.Atoi(m[2])
			title = m[1] + " (" + strconv.Itoa(n+1) + ")"
		} else {
			title += " (2)"
		}
	}
}

// categoryFolder is NoteUtil::getCategoryFolder: each segment sanitised,
// empty ones dropped, folders created.
func (st notesTx) categoryFolder(notes *vfs.Node, category string) (*vfs.Node, error) {
	var segs []string
	for _, s := range strings.Split(category, "/") {
		if s = sanitisePath(s); s != "" {
			segs = append(segs, s)
		}
	}
	return st.fs.MkdirAll(notes, segs)
}

// deleteEmptyFolder is NoteUtil::deleteEmptyFolder: empty category folders
// go, up to (not including) the notes folder.
func (st notesTx) deleteEmptyFolder(dir, notes *vfs.Node) {
	for dir != nil && dir != notes && dir.Dir && len(dir.Children()) == 0 && notes.IsAncestorOf(dir) {
		parent := dir.Parent()
		_ = st.deleteNode(dir)
		dir = parent
	}
}

func (st notesTx) createNote(uid, title, category, content string, modified int64, favorite bool) (noteRef, error) {
	notes, err := st.notesFolder(uid, true)
	if err != nil {
		return noteRef{}, err
	}
	folder, err := st.categoryFolder(notes, category)
	if err != nil {
		return noteRef{}, err
	}
	name := generateFileName(folder, title, st.ns.settingsOf(uid).FileSuffix, -1)
	node, err := st.fs.CreateFile(folder, name, []byte(content), 0)
	if err != nil {
		return noteRef{}, err
	}
	if modified > 0 {
		st.fs.Touch(node, modified)
	}
	if favorite {
		st.setFavorite(uid, node.ID, true)
	}
	return st.noteRefOf(uid, node), nil
}

func (st notesTx) noteRefOf(uid string, node *vfs.Node) noteRef {
	notes, _ := st.notesFolder(uid, false)
	cat := ""
	if notes != nil && notes != node.Parent() {
		cat = strings.TrimPrefix(strings.TrimPrefix(node.Parent().Path(), notes.Path()), "/")
	}
	return noteRef{node: node, category: cat}
}

// moveNote is Note::setTitleCategory.
func (st notesTx) moveNote(uid string, n noteRef, title string, category *string) (noteRef, error) {
	notes, err := st.notesFolder(uid, true)
	if err != nil {
		return n, err
	}
	cat := n.category
	if category != nil {
		cat = *category
	}
	oldParent := n.node.Parent()
	folder, err := st.categoryFolder(notes, cat)
	if err != nil {
		return n, err
	}
	suffix := ""
	if i := strings.LastIndexByte(n.node.Name, '.'); i > 0 {
		suffix = n.node.Name[i:]
	}
	name := generateFileName(folder, title, suffix, n.node.ID)
	if folder != oldParent || name != n.node.Name {
		if err := st.fs.Move(n.node, folder, name); err != nil {
			return n, err
		}
	}
	st.deleteEmptyFolder(oldParent, notes)
	return st.noteRefOf(uid, n.node), nil
}

// writeNotes writes a Notes API response with the X-Notes-API-Versions
// header every Notes response carries.
func writeNotes(c *appCtx, status int, v any) {
	c.w.Header().Set("X-Notes-API-Versions", notesAPIVersions)
	writeAppJSON(c.w, status, v)
}

func writeNotesError(c *appCtx, err error) {
	status := http.StatusInternalServerError
	class := "Exception"
	switch {
	case errors.Is(err, errNoteNotFound):
		status, class = http.StatusNotFound, err.Error()
	case errors.Is(err, errNoteNotWritable):
		status, class = http.StatusForbidden, err.Error()
	}
	writeNotes(c, status, obj{{"errorType", class}})
}

func excludeSet(p params) map[string]bool {
	ex := map[string]bool{}
	if s, ok := p.str("exclude"); ok {
		for _, f := range strings.Split(s, ",") {
			ex[f] = true
		}
	}
	return ex
}

// rfc2822 is the Last-Modified format of the AppFramework (D, d M Y H:i:s O).
const rfc2822 = "Mon, 02 Jan 2006 15:04:05 -0700"

// notModified is NotModifiedMiddleware: an exact match of If-None-Match
// with the quoted ETag, or of If-Modified-Since with the Last-Modified text.
func notModified(r *http.Request, etag, lastModified string) bool {
	if etag != "" && r.Header.Get("If-None-Match") == `"`+etag+`"` {
		return true
	}
	return lastModified != "" && r.Header.Get("If-Modified-Since") == lastModified
}

// notesIndex is GET /notes (category, exclude, pruneBefore, chunkSize,
// chunkCursor) as Helper::getNotesAndCategories computes it.
func notesIndex(c *appCtx) {
	n := c.n
	uid := c.auth.uid
	category, haveCategory := c.p.str("category")
	exclude := excludeSet(c.p)
	pruneBefore, _ := c.p.int("pruneBefore")
	chunkSize, _ := c.p.int("chunkSize")
	cursorStr, _ := c.p.str("chunkCursor")

	var (
		data       []any
		nextCursor string
		pending    int
		timeStart  int64
	)
	n.withState(func(s *state) bool {
		st := notesOf(s)
		timeStart = st.unix()
		var cursor *[3]int64
		if m := chunkCursorRe.FindStringSubmatch(cursorStr); m != nil {
			a, _ := strconv.ParseInt(m[1], 10, 64)
			b, _ := strconv.ParseInt(m[2], 10, 64)
			d, _ := strconv.ParseInt(m[3], 10, 64)
			cursor = &[3]int64{a, b, d}
			timeStart = a
		}
		all := st.notes(uid)
		if haveCategory {
			var kept []noteRef
			for _, nr := range all {
				if nr.category == category {
					kept = append(kept, nr)
				}
			}
			all = kept
		}
		type metaNote struct {
			ref  noteRef
			meta *noteMeta
		}
		var metaNotes, full []metaNote
		for _, nr := range all {
			metaNotes = append(metaNotes, metaNote{nr, st.noteMetaOf(uid, nr)})
		}
		for _, mn := range metaNotes {
			pruned := pruneBefore != 0 && mn.meta.LastUpdate < pruneBefore
			before := cursor != nil && (mn.meta.LastUpdate < cursor[1] || (mn.meta.LastUpdate == cursor[1] && mn.ref.node.ID <= cursor[2]))
			if !pruned && !before {
				full = append(full, mn)
			}
		}
		sort.SliceStable(full, func(i, j int) bool {
			if full[i].meta.LastUpdate != full[j].meta.LastUpdate {
				return full[i].meta.LastUpdate < full[j].meta.LastUpdate
			}
			return full[i].ref.node.ID < full[j].ref.node.ID
		})
		chunk := full
		if chunkSize > 0 && int64(len(full)) > chunkSize {
			chunk = full[:chunkSize]
		}
		pending = len(full) - len(chunk)
		inChunk := map[int64]bool{}
		for _, mn := range chunk {
			data = append(data, st.noteData(uid, mn.ref, exclude))
			inChunk[mn.ref.node.ID] = true
		}
		if pending > 0 {
			last := chunk[len(chunk)-1]
			nextCursor = strconv.FormatInt(timeStart, 10) + "-" + strconv.FormatInt(last.meta.LastUpdate, 10) + "-" + strconv.FormatInt(last.ref.node.ID, 10)
		} else {
			// The last chunk also lists every other note by id, so clients
			// can detect deletions.
			for _, mn := range metaNotes {
				if !inChunk[mn.ref.node.ID] {
					data = append(data, obj{{"id", mn.ref.node.ID}})
				}
			}
		}
		return true // meta rows may have changed
	})
	if data == nil {
		data = []any{}
	}
	etag := md5hex(phpJSON(data))
	lastModified := time.Unix(timeStart, 0).UTC().Format(rfc2822)
	h := c.w.Header()
	h.Set("ETag", `"`+etag+`"`)
	h.Set("Last-Modified", lastModified)
	if nextCursor != "" {
		h.Set("X-Notes-Chunk-Cursor", nextCursor)
		h.Set("X-Notes-Chunk-Pending", strconv.Itoa(pending))
	}
	if notModified(c.r, etag, lastModified) {
		h.Set("X-Notes-API-Versions", notesAPIVersions)
		frameworkHeaders(h)
		c.w.WriteHeader(http.StatusNotModified)
		return
	}
	writeNotes(c, http.StatusOK, data)
}

func noteID(c *appCtx) int64 {
	id, _ := strconv.ParseInt(c.m[len(c.m)-1], 10, 64)
	return id
}

// notesGet is GET /notes/{id}.
func notesGet(c *appCtx) {
	n := c.n
	var data obj
	var err error
	n.withState(func(s *state) bool {
		st := notesOf(s)
		var nr noteRef
		if nr, err = st.noteByID(c.auth.uid, noteID(c)); err != nil {
			return false
		}
		data = st.noteData(c.auth.uid, nr, excludeSet(c.p))
		return true
	})
	if err != nil {
		writeNotesError(c, err)
		return
	}
	etag, _ := data.get("etag")
	c.w.Header().Set("ETag", `"`+etag.(string)+`"`)
	if notModified(c.r, etag.(string), "") {
		c.w.Header().Set("X-Notes-API-Versions", notesAPIVersions)
		frameworkHeaders(c.w.Header())
		c.w.WriteHeader(http.StatusNotModified)
		return
	}
	writeNotes(c, http.StatusOK, data)
}

// notesCreate is POST /notes: 200 (not 201) with the note.
func notesCreate(c *appCtx) {
	n := c.n
	category, _ := c.p.str("category")
	title, _ := c.p.str("title")
	content, _ := c.p.str("content")
	modified, _ := c.p.int("modified")
	favorite, _ := c.p.bool("favorite")
	var data obj
	var err error
	n.withState(func(s *state) bool {
		st := notesOf(s)
		var nr noteRef
		if nr, err = st.createNote(c.auth.uid, title, category, content, modified, favorite); err != nil {
			return false
		}
		data = st.noteData(c.auth.uid, nr, nil)
		return true
	})
	if err != nil {
		writeNotesError(c, err)
		return
	}
	writeNotes(c, http.StatusOK, data)
}

// notesUpdate is PUT /notes/{id}; a stale If-Match is 412 with the current
// note as body (Helper::getNoteWithETagCheck).
func notesUpdate(c *appCtx) {
	n := c.n
	uid := c.auth.uid
	var (
		data   obj
		err    error
		status = http.StatusOK
	)
	n.withState(func(s *state) bool {
		st := notesOf(s)
		nr, e := st.noteByID(uid, noteID(c))
		if e != nil {
			err = e
			return false
		}
		if im := c.r.Header.Get("If-Match"); im != "" {
			want := `"` + st.noteMetaOf(uid, nr).ETag + `"`
			match := false
			for _, t := range listSepRe.Split(im, -1) {
				if t == want {
					match = true
				}
			}
			if !match {
				data, status = st.noteData(uid, nr, nil), http.StatusPreconditionFailed
				return true
			}
		}
		content, haveContent := c.p.str("content")
		modified, haveModified := c.p.int("modified")
		title, haveTitle := c.p.str("title")
		category, haveCategory := c.p.str("category")
		favorite, haveFavorite := c.p.bool("favorite")
		writes := haveContent || haveModified || haveTitle || haveCategory
		if writes && nr.readonly {
			err = errNoteNotWritable
			return false
		}
		if haveContent {
			if e := st.fs.WriteFile(nr.node, []byte(content), 0); e != nil {
				err = e
				return false
			}
		}
		if haveModified {
			st.fs.Touch(nr.node, modified)
		}
		if haveTitle || haveCategory {
			if !haveTitle {
				title = nr.title()
			}
			var cat *string
			if haveCategory {
				cat = &category
			}
			if nr, e = st.moveNote(uid, nr, title, cat); e != nil {
				err = e
				return false
			}
		}
		if haveFavorite {
			st.setFavorite(uid, nr.node.ID, favorite)
		}
		data = st.noteData(uid, nr, nil)
		return true
	})
	if err != nil {
		writeNotesError(c, err)
		return
	}
	writeNotes(c, status, data)
}

// notesDestroy is DELETE /notes/{id}: 200 with [].
func notesDestroy(c *appCtx) {
	n := c.n
	var err error
	n.withState(func(s *state) bool {
		st := notesOf(s)
		nr, e := st.noteByID(c.auth.uid, noteID(c))
		if e != nil {
			err = e
			return false
		}
		if nr.readonly {
			err = errNoteNotWritable
			return false
		}
		parent := nr.node.Parent()
		if e := st.deleteNode(nr.node); e != nil {
			err = e
			return false
		}
		if notes, e := st.notesFolder(c.auth.uid, false); e == nil {
			st.deleteEmptyFolder(parent, notes)
		}
		return true
	})
	if err != nil {
		writeNotesError(c, err)
		return
	}
	writeNotes(c, http.StatusOK, []any{})
}

func settingsObj(s notesSettings) obj {
	return obj{{"notesPath", s.NotesPath}, {"fileSuffix", s.FileSuffix}, {"noteMode", s.NoteMode}}
}

// notesGetSettings is GET /settings.
func notesGetSettings(c *appCtx) {
	var s notesSettings
	c.n.withState(func(st *state) bool {
		s = notesOf(st).ns.settingsOf(c.auth.uid)
		return false
	})
	writeNotes(c, http.StatusOK, settingsObj(s))
}

// sanitiseNotesPath strips characters Windows forbids and any "." or ".."
// segment, so the notes folder stays inside the user's tree.
func sanitiseNotesPath(p string) string {
	p = strings.NewReplacer("*", "", "|", "", ":", "", `"`, "", "<", "", ">", "", "?", "", "\\", "/").Replace(p)
	var segs []string
	for _, s := range strings.Split(p, "/") {
		s = strings.TrimSpace(s)
		if s == "" || s == "." || s == ".." || vfs.ValidateName(s) != nil {
			continue
		}
		segs = append(segs, s)
	}
	return strings.Join(segs, "/")
}

// notesPutSettings is PUT /settings: values are sanitised, empty or
// unknown ones become the defaults; the result is returned.
func notesPutSettings(c *appCtx) {
	var s notesSettings
	c.n.withState(func(locked *state) bool {
		st := notesOf(locked)
		s = st.ns.settingsOf(c.auth.uid)
		def := defaultNotesSettings()
		if v, ok := c.p.str("notesPath"); ok {
			s.NotesPath = sanitiseNotesPath(v)
			if s.NotesPath == "" {
				s.NotesPath = def.NotesPath
			}
		}
		if v, ok := c.p.str("fileSuffix"); ok {
			if v != ".txt" && v != ".md" {
				v = def.FileSuffix
			}
			s.FileSuffix = v
		}
		if v, ok := c.p.str("noteMode"); ok {
			if v != "edit" && v != "preview" && v != "rich" {
				v = def.NoteMode
			}
			s.NoteMode = v
		}
		cp := s
		st.ns.settings[c.auth.uid] = &cp
		_, _ = st.notesFolder(c.auth.uid, true)
		return true
	})
	writeNotes(c, http.StatusOK, settingsObj(s))
}

// notesFail is notes_api#fail: 400 with [].
func notesFail(c *appCtx) {
	writeNotes(c, http.StatusBadRequest, []any{})
}

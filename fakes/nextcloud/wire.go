package nextcloud

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// obj is a JSON object that keeps its key order, as PHP arrays do; the
// Notes field order and the OCS meta order are part of what clients see.
type obj []kv

type kv struct {
	K string
	V any
}

func (o obj) get(k string) (any, bool) {
	for _, e := range o {
		if e.K == k {
			return e.V, true
		}
	}
	return nil, false
}

// phpJSON encodes v the way PHP's json_encode($v, JSON_HEX_TAG) does, which
// is what Nextcloud's JSONResponse and OCS JSON use: "/" escaped as "\/",
// "<" and ">" as \u003C and \u003E, every non-ASCII character as a \uXXXX
// escape, and an empty array as [].
func phpJSON(v any) []byte {
	var b bytes.Buffer
	encodePHP(&b, v)
	return b.Bytes()
}

func encodePHP(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		encodePHPString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		// PHP 7.1+ (serialize_precision -1) prints the shortest round-trip
		// form and keeps ".0" on whole numbers.
		if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
			b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
			return
		}
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case json.Number:
		b.WriteString(x.String())
	case obj:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			encodePHPString(b, e.K)
			b.WriteByte(':')
			encodePHP(b, e.V)
		}
		b.WriteByte('}')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := make(obj, 0, len(keys))
		for _, k := range keys {
			o = append(o, kv{k, x[k]})
		}
		encodePHP(b, o)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			encodePHP(b, e)
		}
		b.WriteByte(']')
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		encodePHP(b, l)
	case []obj:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		encodePHP(b, l)
	case []int64:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		encodePHP(b, l)
	case []int:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		encodePHP(b, l)
	default:
		// Anything else goes through encoding/json and back, so the PHP
		// string rules still apply.
		raw, err := json.Marshal(x)
		if err != nil {
			b.WriteString("null")
			return
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var generic any
		if d.Decode(&generic) != nil {
			b.WriteString("null")
			return
		}
		encodePHP(b, generic)
	}
}

func encodePHPString(b *bytes.Buffer, s string) {
	const hexdigits = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '/':
			b.WriteString(`\/`)
		case r == '<':
			b.WriteString(`\u003C`)
		case r == '>':
			b.WriteString(`\u003E`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r >= 0x7f:
			if r > 0xffff {
				r -= 0x10000
				for _, u := range []rune{0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff} {
					b.WriteString(`\u`)
					b.WriteByte(hexdigits[u>>12&0xf])
					b.WriteByte(hexdigits[u>>8&0xf])
					b.WriteByte(hexdigits[u>>4&0xf])
					b.WriteByte(hexdigits[u&0xf])
				}
				continue
			}
			b.WriteString(`\u`)
			b.WriteByte(hexdigits[r>>12&0xf])
			b.WriteByte(hexdigits[r>>8&0xf])
			b.WriteByte(hexdigits[r>>4&0xf])
			b.WriteByte(hexdigits[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// phpXML renders v the way OCS's BaseResponse::toXML does with XMLWriter
// (indent one space): list items become <element>, "@name" keys attributes,
// booleans "1"/"", nil and empty arrays empty elements.
func phpXML(b *bytes.Buffer, name string, v any, depth int) {
	indent := strings.Repeat(" ", depth)
	switch x := v.(type) {
	case obj:
		var attrs strings.Builder
		var children obj
		for _, e := range x {
			if strings.HasPrefix(e.K, "@") {
				fmt.Fprintf(&attrs, ` %s="%s"`, e.K[1:], xmlEscape(scalarString(e.V)))
				continue
			}
			children = append(children, e)
		}
		if len(children) == 0 {
			b.WriteString(indent + "<" + name + attrs.String() + "/>\n")
			return
		}
		b.WriteString(indent + "<" + name + attrs.String() + ">\n")
		for _, e := range children {
			phpXML(b, xmlName(e.K), e.V, depth+1)
		}
		b.WriteString(indent + "</" + name + ">\n")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := obj{}
		for _, k := range keys {
			o = append(o, kv{k, x[k]})
		}
		phpXML(b, name, o, depth)
	case []any:
		if len(x) == 0 {
			b.WriteString(indent + "<" + name + "/>\n")
			return
		}
		b.WriteString(indent + "<" + name + ">\n")
		for _, e := range x {
			phpXML(b, "element", e, depth+1)
		}
		b.WriteString(indent + "</" + name + ">\n")
	case []string, []obj, []int64, []int:
		var generic []any
		switch y := x.(type) {
		case []string:
			for _, s := range y {
				generic = append(generic, s)
			}
		case []obj:
			for _, s := range y {
				generic = append(generic, s)
			}
		case []int64:
			for _, s := range y {
				generic = append(generic, s)
			}
		case []int:
			for _, s := range y {
				generic = append(generic, s)
			}
		}
		if generic == nil {
			generic = []any{}
		}
		phpXML(b, name, generic, depth)
	case nil:
		b.WriteString(indent + "<" + name + "/>\n")
	default:
		b.WriteString(indent + "<" + name + ">" + xmlEscape(scalarString(x)) + "</" + name + ">\n")
	}
}

// xmlName turns a PHP array key into an element name; numeric keys become
// "element" as in BaseResponse::toXML.
func xmlName(k string) string {
	if _, err := strconv.Atoi(k); err == nil || k == "" {
		return "element"
	}
	return k
}

func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "1"
		}
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				continue // not representable in XML 1.0
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// requestID is the X-Request-Id Nextcloud puts on every response.
func requestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// frameworkHeaders are the headers the AppFramework's Response::getHeaders
// adds to every controller response (OCS and index.php apps).
func frameworkHeaders(h http.Header) {
	h.Set("X-Request-Id", requestID())
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Content-Security-Policy", "default-src 'none';base-uri 'none';manifest-src 'self';frame-ancestors 'none'")
	h.Set("Feature-Policy", "autoplay 'none';camera 'none';fullscreen 'none';geolocation 'none';microphone 'none';payment 'none'")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("X-Content-Type-Options", "nosniff")
}

// writeAppJSON writes an AppFramework JSONResponse.
func writeAppJSON(w http.ResponseWriter, status int, v any) {
	frameworkHeaders(w.Header())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(phpJSON(v))
}

// writeAppMessage is the {"message": ...} JSON every middleware exception
// of the AppFramework turns into (SecurityMiddleware, CORSMiddleware, the
// index.php LoginException handler).
func writeAppMessage(w http.ResponseWriter, status int, msg string) {
	writeAppJSON(w, status, obj{{"message", msg}})
}

// writeNotFoundPage is index.php's answer for an unknown route: Nextcloud's
// HTML error page.
func writeNotFoundPage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Nextcloud</title></head><body><h2>Page not found</h2>" +
		"<p>The page could not be found on the server or you may not be allowed to view it.</p></body></html>\n"))
}

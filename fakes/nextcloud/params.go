package nextcloud

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// params are a request's parameters as the AppFramework's Request merges
// them: query string, then the body (form or JSON) on top. A malformed JSON
// body contributes nothing, silently — Request::decodeContent ignores a
// json_decode failure.
type params map[string]any

func requestParams(r *http.Request, body []byte) params {
	p := params{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p[strings.TrimSuffix(k, "[]")] = queryValue(k, v)
		}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case strings.Contains(ct, "json"):
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(string(body)))
		d.UseNumber()
		if d.Decode(&m) == nil {
			for k, v := range m {
				p[k] = v
			}
		}
	case ct == "application/x-www-form-urlencoded":
		if vals, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range vals {
				if len(v) > 0 {
					p[strings.TrimSuffix(k, "[]")] = queryValue(k, v)
				}
			}
		}
	case ct == "multipart/form-data":
		if err := r.ParseMultipartForm(8 << 20); err == nil && r.MultipartForm != nil {
			for k, v := range r.MultipartForm.Value {
				if len(v) > 0 {
					p[strings.TrimSuffix(k, "[]")] = queryValue(k, v)
				}
			}
		}
	}
	return p
}

func queryValue(k string, v []string) any {
	if strings.HasSuffix(k, "[]") {
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return v[len(v)-1]
}

// str returns a scalar parameter as PHP would cast it to string; ok is
// false when the parameter is absent or null.
func (p params) str(k string) (string, bool) {
	v, ok := p[k]
	if !ok || v == nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "1", true
		}
		return "", true
	}
	return "", false
}

// int returns a parameter as PHP's (int) cast would; ok false when absent.
func (p params) int(k string) (int64, bool) {
	s, ok := p.str(k)
	if !ok {
		return 0, false
	}
	return phpInt(s), true
}

// bool returns a parameter through filter_var(FILTER_VALIDATE_BOOLEAN).
func (p params) bool(k string) (bool, bool) {
	v, ok := p[k]
	if !ok || v == nil {
		return false, false
	}
	if b, isBool := v.(bool); isBool {
		return b, true
	}
	s, _ := p.str(k)
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "on", "yes":
		return true, true
	}
	return false, true
}

// phpInt is PHP's (int) cast of a string: leading whitespace, an optional
// sign and digits; anything else stops the number (0 when none).
func phpInt(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			return int64(f)
		}
		return 0
	}
	return n
}

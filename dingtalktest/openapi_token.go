package dingtalktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// TokenFetches is the number of token requests answered with a token.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenFetches
}

// ExpireTokens invalidates every issued access token; the next fetch returns a new one.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	s.tokens = make(map[string]time.Time)
	s.token = ""
	s.mu.Unlock()
}

// issueToken returns the current token, renewed, or a new one. DingTalk: fetching
// inside the validity window returns the same token and extends it.
func (s *Server) issueToken() string {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" || !now.Before(s.tokens[s.token]) {
		delete(s.tokens, s.token)
		s.token = randHex(32)
	}
	s.tokens[s.token] = now.Add(s.opts.TokenTTL)
	s.tokenFetches++
	return s.token
}

func (s *Server) validToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if !isJSONContentType(r) {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, MsgBodyMandatory)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodySize))
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, MsgBodyMandatory)
		return
	}
	var req struct {
		AppKey    *string `json:"appKey"`
		AppSecret *string `json:"appSecret"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			writeAPIError(w, http.StatusBadRequest, CodeParameterInvalid, MsgParameterInvalid)
			return
		}
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, "body is not a valid json")
		return
	}
	if req.AppKey == nil || req.AppSecret == nil || *req.AppKey != s.opts.ClientID || *req.AppSecret != s.opts.ClientSecret {
		writeAPIError(w, http.StatusBadRequest, CodeInvalidClient, MsgInvalidClient)
		s.logf("accessToken: wrong credentials")
		return
	}
	tok := s.issueToken()
	writeAPI(w, http.StatusOK, map[string]any{"accessToken": tok, "expireIn": int64(s.opts.TokenTTL / time.Second)})
}

// handleLegacyToken is oapi.dingtalk.com/gettoken.
func (s *Server) handleLegacyToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("appkey") != s.opts.ClientID || q.Get("appsecret") != s.opts.ClientSecret {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"})
		return
	}
	tok := s.issueToken()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": int64(s.opts.TokenTTL / time.Second)})
}

// authorize checks x-acs-dingtalk-access-token and the JSON body of a v1.0 call;
// on failure it writes the error and returns ok=false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (body []byte, status int, code string, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodySize))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, MsgBodyMandatory)
		return body, http.StatusBadRequest, CodeBodyInvalid, false
	}
	if !s.validToken(r.Header.Get("x-acs-dingtalk-access-token")) {
		writeAPIError(w, http.StatusBadRequest, CodeInvalidAuthentication, MsgInvalidAccessToken)
		return body, http.StatusBadRequest, CodeInvalidAuthentication, false
	}
	if !isJSONContentType(r) || len(bytes.TrimSpace(body)) == 0 {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, MsgBodyMandatory)
		return body, http.StatusBadRequest, CodeBodyInvalid, false
	}
	if !json.Valid(body) {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, "body is not a valid json")
		return body, http.StatusBadRequest, CodeBodyInvalid, false
	}
	return body, 0, "", true
}

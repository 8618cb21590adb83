package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// Client sends GraphQL requests over keep-alive connections.
type Client struct {
	url  string
	http *http.Client
	// sent counts the requests sent, what CPU time is divided by: one
	// operation of a scenario may take many (polls).
	sent atomic.Int64
}

func newClient(url string) *Client {
	tr := &http.Transport{
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     time.Minute,
	}
	return &Client{url: url, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// OpError is a response with errors or an unexpected status.
type OpError struct {
	Status int
	Errors []gqlError
}

func (e *OpError) Error() string {
	if len(e.Errors) > 0 {
		return fmt.Sprintf("status %d: %v %s", e.Status, e.Errors[0].Extensions["code"], e.Errors[0].Message)
	}
	return fmt.Sprintf("status %d", e.Status)
}

// Code is the first error's code, for the report.
func (e *OpError) Code() string {
	if len(e.Errors) > 0 {
		if c, ok := e.Errors[0].Extensions["code"].(string); ok {
			return c
		}
	}
	return fmt.Sprintf("HTTP_%d", e.Status)
}

// Do sends one operation and decodes its data into out (may be nil).
func (c *Client) Do(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c.sent.Add(1)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if out == nil && res.StatusCode == http.StatusOK && cleanData(raw) {
		return nil
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return &OpError{Status: res.StatusCode}
	}
	if res.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		return &OpError{Status: res.StatusCode, Errors: r.Errors}
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

// cleanData reports, without decoding, that raw is a whole response with data
// and no errors: a top-level "errors" key cannot hide without those exact
// bytes, which no escaped string contains. Decoding every response took half the
// load tool's CPU, on the machine whose cores it shares with the server.
func cleanData(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return bytes.HasPrefix(raw, []byte(`{"data":`)) && bytes.HasSuffix(raw, []byte("}")) &&
		!bytes.Contains(raw, []byte(`"errors"`))
}

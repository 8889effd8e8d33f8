// Command nfvkit-s3 is the S3 endpoint of the tests of the team backend
// (tests/e2e/s3Backend.test.ts): gofakes3's S3 protocol handler on an
// in-memory store, served on a loopback port, that refuses every request not
// signed (AWS Signature Version 4) with the one key pair it was given.
//
// Why this and not a full object store: the engine's DIY backend and the kit's
// nfvkit-blob make plain S3 requests (objects read, written, listed and
// removed) through the AWS SDK, and what the tests prove is what they write
// and read there. gofakes3
// builds in seconds from the Go module proxy, where SeaweedFS took 13
// CPU-minutes. The signature check makes the keys matter: a client that sends
// none, or the wrong ones, is refused as AWS would refuse it.
//
// The key pair comes from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the
// variables the clients read, so it is never on a command line or on disk.
// Nothing is written to disk: the bucket lives and dies with the process.
//
//	nfvkit-s3 -bucket <name>
//
// prints the endpoint (http://127.0.0.1:<port>) on stdout once it listens,
// and exits when its stdin closes (its parent is gone, even killed) or on
// SIGTERM/SIGINT.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	bucket := flag.String("bucket", "", "the bucket to make at start (required)")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on; port 0 picks a free one")
	flag.Parse()
	accessKey, secretKey := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if *bucket == "" || accessKey == "" || secretKey == "" {
		fmt.Fprintln(os.Stderr, "nfvkit-s3: -bucket, and the key pair in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, are required")
		os.Exit(2)
	}
	store := s3mem.New()
	if err := store.CreateBucket(*bucket); err != nil {
		fmt.Fprintf(os.Stderr, "nfvkit-s3: cannot make bucket %q: %v\n", *bucket, err)
		os.Exit(1)
	}
	s3 := gofakes3.New(store, gofakes3.WithLogger(gofakes3.GlobalLog(gofakes3.LogErr)))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nfvkit-s3: %v\n", err)
		os.Exit(1)
	}
	server := &http.Server{Handler: signedOnly(accessKey, secretKey, s3.Server()), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := server.Serve(ln); err != http.ErrServerClosed {
			fmt.Fprintf(os.Stderr, "nfvkit-s3: %v\n", err)
			os.Exit(1)
		}
	}()
	fmt.Printf("http://%s\n", ln.Addr())

	done := make(chan struct{}, 2)
	go func() {
		// The parent holds our stdin: when it is gone, however it ended, so are we.
		_, _ = io.Copy(io.Discard, os.Stdin)
		done <- struct{}{}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; done <- struct{}{} }()
	<-done
	_ = server.Close()
}

// signedOnly passes on the requests signed with the key pair (SigV4 in the
// Authorization header, as the AWS SDK signs) and answers the rest as S3 does.
func signedOnly(accessKey, secretKey string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, why := checkSignature(r, accessKey, secretKey); code != "" {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, why)
			return
		}
		if r.Method == http.MethodGet && r.Header.Get("X-Amz-Checksum-Mode") == "ENABLED" && r.Header.Get("Range") == "" {
			c := &withChecksum{ResponseWriter: w}
			next.ServeHTTP(c, r)
			c.flush()
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withChecksum answers a GetObject that asks for the object's checksum
// (x-amz-checksum-mode: ENABLED, as the AWS SDK asks) with the CRC32 of the
// body, as S3 does: the SDK then checks what it read, and does not warn on
// every read that it could not. gofakes3 keeps no checksums, so the body is
// held and summed here; the objects of a state backend are small.
type withChecksum struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *withChecksum) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *withChecksum) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(p)
}

// flush sends what the handler wrote, with the checksum of a whole object.
func (c *withChecksum) flush() {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.status == http.StatusOK {
		sum := make([]byte, 4)
		binary.BigEndian.PutUint32(sum, crc32.ChecksumIEEE(c.body.Bytes()))
		c.Header().Set("X-Amz-Checksum-Crc32", base64.StdEncoding.EncodeToString(sum))
	}
	c.ResponseWriter.WriteHeader(c.status)
	_, _ = c.ResponseWriter.Write(c.body.Bytes())
}

// checkSignature recomputes the request's SigV4 signature with our secret key
// (the canonical request over the headers it names as signed, the string to
// sign, the key derived from date, region and service) and compares it with
// the one sent. It returns S3's error code and message, or "" when the request
// was signed with our key pair.
func checkSignature(r *http.Request, accessKey, secretKey string) (string, string) {
	const algorithm = "AWS4-HMAC-SHA256"
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, algorithm+" ") {
		return "AccessDenied", "a request signed with AWS Signature Version 4 is required"
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algorithm+" "), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			fields[k] = v
		}
	}
	scope := strings.Split(fields["Credential"], "/") // <key>/<date>/<region>/<service>/aws4_request
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return "AuthorizationHeaderMalformed", "the Credential is not <key>/<date>/<region>/<service>/aws4_request"
	}
	if scope[0] != accessKey {
		return "InvalidAccessKeyId", "the access key is not known here"
	}
	var headers strings.Builder
	for _, name := range strings.Split(fields["SignedHeaders"], ";") {
		values := append([]string(nil), r.Header.Values(name)...)
		switch name {
		case "host": // Go keeps these out of r.Header
			values = []string{r.Host}
		case "content-length":
			values = []string{fmt.Sprint(r.ContentLength)}
		case "transfer-encoding":
			values = r.TransferEncoding
		}
		for i := range values {
			values[i] = strings.Join(strings.Fields(values[i]), " ")
		}
		fmt.Fprintf(&headers, "%s:%s\n", name, strings.Join(values, ","))
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	canonical := strings.Join([]string{r.Method, encodePath(r.URL.Path), canonicalQuery(r.URL.RawQuery), headers.String(), fields["SignedHeaders"], payload}, "\n")
	toSign := strings.Join([]string{algorithm, r.Header.Get("X-Amz-Date"), strings.Join(scope[1:], "/"), hexSHA256(canonical)}, "\n")
	key := []byte("AWS4" + secretKey)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return "SignatureDoesNotMatch", "the request signature does not match the one computed with the secret key"
	}
	return "", ""
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// uriEncode is SigV4's encoding: RFC 3986's unreserved characters as they are,
// every other byte as %XX in upper case; '/' kept in paths.
func uriEncode(s string, keepSlash bool) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~', keepSlash && c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func encodePath(p string) string {
	if p == "" {
		return "/"
	}
	return uriEncode(p, true)
}

func canonicalQuery(raw string) string {
	values, _ := url.ParseQuery(raw)
	var pairs []string
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k, false)+"="+uriEncode(v, false))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

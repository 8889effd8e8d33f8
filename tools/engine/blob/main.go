// Command nfvkit-blob reads and writes the few objects the kit keeps in a
// Pulumi state backend that is a bucket (s3://), and reads the engine's lock
// objects there: the kit's stale-lock handling (tools/cli/runRecords.ts)
// needs to list, read and remove them, which no pulumi command does.
//
// Why Go and not a Node S3 client: it opens the bucket with the same Go CDK
// driver, URL parameters (endpoint, region, profile, use_path_style, ...) and
// credential chain as the engine's own DIY backend, from the same module
// versions (tools/engine/go.mod), so it sees exactly the objects the engine
// sees and adds no dependency. A `file://` backend is a folder: the kit reads
// it directly and never runs this.
//
// The backend URL comes from PULUMI_BACKEND_URL, as for pulumi itself: a URL
// may carry credentials, and the command line is readable by every user.
//
//	nfvkit-blob list <prefix>   keys under prefix, as a JSON array
//	nfvkit-blob get <key>       the object's bytes on stdout; exit 3 if there is none
//	nfvkit-blob put <key>       stdin becomes the object
//	nfvkit-blob delete <key>    removes it; no error if there is none
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob" // s3:// (and S3-compatible stores through ?endpoint=)
	"gocloud.dev/gcerrors"
)

const notFound = 3

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "nfvkit-blob: %v\n", err)
		if gcerrors.Code(err) == gcerrors.NotFound {
			os.Exit(notFound)
		}
		os.Exit(1)
	}
}

// open opens the backend's bucket as the engine does: the URL's path, if any,
// is a folder inside the bucket (diy backend: blob.PrefixedBucket).
func open(ctx context.Context) (*blob.Bucket, error) {
	raw := os.Getenv("PULUMI_BACKEND_URL")
	if raw == "" || strings.HasPrefix(raw, "file://") {
		return nil, errors.New("PULUMI_BACKEND_URL must name a bucket backend (s3://...); a file:// backend is read as a folder")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("PULUMI_BACKEND_URL is not a URL: %v", err)
	}
	sub := strings.TrimLeft(u.Path, "/")
	u.Path = ""
	bucket, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		// The error names the URL, which may carry credentials: say only the scheme and bucket.
		return nil, fmt.Errorf("cannot open the %s bucket %q: %v", u.Scheme, u.Host, gcerrors.Code(err))
	}
	if sub != "" {
		if !strings.HasSuffix(sub, "/") {
			sub += "/"
		}
		bucket = blob.PrefixedBucket(bucket, sub)
	}
	return bucket, nil
}

func run(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: nfvkit-blob list <prefix> | get <key> | put <key> | delete <key>")
	}
	ctx := context.Background()
	bucket, err := open(ctx)
	if err != nil {
		return err
	}
	defer bucket.Close()
	op, key := args[0], args[1]
	switch op {
	case "list":
		keys := []string{}
		it := bucket.List(&blob.ListOptions{Prefix: key})
		for {
			obj, err := it.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			keys = append(keys, obj.Key)
		}
		return json.NewEncoder(os.Stdout).Encode(keys)
	case "get":
		data, err := bucket.ReadAll(ctx, key)
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(data)
		return err
	case "put":
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		return bucket.WriteAll(ctx, key, data, nil)
	case "delete":
		err := bucket.Delete(ctx, key)
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil
		}
		return err
	}
	return fmt.Errorf("unknown operation %q", op)
}

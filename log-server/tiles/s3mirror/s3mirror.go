// Package s3mirror keeps a log's tiles in an S3-compatible object store
// (Amazon S3, MinIO, Ceph RGW, Garage...) through the MinIO client, as a
// [tiles.Mirror]: the store, or a CDN in front of it, then serves the log's
// C2SP tlog-tiles at any scale.
//
// Decisions:
//   - Objects are named by their tlog-tiles path below a key prefix, so
//     the bucket served over HTTP (path-style or as a website) is the
//     tiles API: https://<endpoint>/<bucket>/<prefix>checkpoint.
//   - Each object carries the Content-Type and Cache-Control the log's own
//     HTTP handler sends, which S3 serves back and a CDN obeys.
//   - Entry bundles are stored uncompressed: every client can read them,
//     and a CDN compresses them on the way out.
//   - Credentials are given by the caller (the config's files or the
//     environment, read in cmd/): this package reads no environment.
//
// [tiles.Mirror]: https://pkg.go.dev/github.com/govlog/govlog/log-server/tiles#Mirror
package s3mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/govlog/govlog/log-server/tiles"
)

// Options says where the tiles go.
type Options struct {
	// Endpoint is the store's host[:port], without a scheme
	// (s3.amazonaws.com, minio.internal:9000).
	Endpoint string
	// Secure speaks HTTPS to the endpoint.
	Secure bool
	// Region is the bucket's region; empty: asked of the store.
	Region string
	// Bucket must exist; the credentials must allow PutObject and
	// GetObject in it.
	Bucket string
	// Prefix is put before every object's name ("logs/": objects
	// logs/checkpoint, logs/tile/0/000...). Empty: the bucket's root.
	Prefix string
	// AccessKeyID, SecretAccessKey and SessionToken (optional) sign the
	// requests.
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Mirror writes tiles to one prefix of a bucket.
type Mirror struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ tiles.Mirror = (*Mirror)(nil)

// New checks opts and makes a client; it does not contact the store.
func New(opts Options) (*Mirror, error) {
	switch {
	case opts.Endpoint == "":
		return nil, errors.New("s3mirror: an endpoint is required")
	case strings.Contains(opts.Endpoint, "://") || strings.Contains(opts.Endpoint, "/"):
		return nil, fmt.Errorf("s3mirror: the endpoint is host[:port], without a scheme or a path (set secure for https), not %q", opts.Endpoint)
	case opts.Bucket == "":
		return nil, errors.New("s3mirror: a bucket is required")
	case opts.AccessKeyID == "" || opts.SecretAccessKey == "":
		return nil, errors.New("s3mirror: an access key and a secret key are required")
	}
	client, err := minio.New(opts.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken),
		Secure: opts.Secure,
		Region: opts.Region,
		// tiles.RunMirror retries with its own pauses, from what the
		// mirror holds; a few quick retries here ride out a blip.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("s3mirror: %w", err)
	}
	return &Mirror{client: client, bucket: opts.Bucket, prefix: cleanPrefix(opts.Prefix)}, nil
}

// cleanPrefix makes a prefix end in one slash (or be empty), without a
// leading one: keys never start with "/" or hold "//".
func cleanPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// Sub is a mirror below dir of m's prefix, sharing its client: one per log.
func (m *Mirror) Sub(dir string) *Mirror {
	return &Mirror{client: m.client, bucket: m.bucket, prefix: cleanPrefix(m.prefix + dir)}
}

// Prefix is the key prefix of m's objects.
func (m *Mirror) Prefix() string { return m.prefix }

// String names m's place in the store, for logs: s3://bucket/prefix.
func (m *Mirror) String() string { return "s3://" + m.bucket + "/" + m.prefix }

// Get reads the object at path below the prefix; a missing object is
// fs.ErrNotExist (a missing bucket is an error like any other).
func (m *Mirror) Get(ctx context.Context, path string) ([]byte, error) {
	key := m.prefix + path
	obj, err := m.client.GetObject(ctx, m.bucket, key, minio.GetObjectOptions{})
	if err == nil {
		defer obj.Close()
		var data []byte
		if data, err = io.ReadAll(obj); err == nil {
			return data, nil
		}
	}
	if resp := (minio.ErrorResponse{}); errors.As(err, &resp) && resp.Code == minio.NoSuchKey {
		return nil, fmt.Errorf("s3://%s/%s: %w", m.bucket, key, fs.ErrNotExist)
	}
	return nil, fmt.Errorf("couldn't read s3://%s/%s: %w", m.bucket, key, err)
}

// Put writes the object at path below the prefix, in one request.
func (m *Mirror) Put(ctx context.Context, path string, data []byte, contentType, cacheControl string) error {
	key := m.prefix + path
	_, err := m.client.PutObject(ctx, m.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType: contentType, CacheControl: cacheControl, DisableMultipart: true,
	})
	if err != nil {
		return fmt.Errorf("couldn't write s3://%s/%s: %w", m.bucket, key, err)
	}
	return nil
}

package tlsfiles

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"google.golang.org/grpc/credentials"
)

// GRPCCredentials are the server's gRPC transport credentials: TLS with
// the server's configuration, each failed handshake logged.
func (s *Server) GRPCCredentials() credentials.TransportCredentials {
	return serverCreds{credentials.NewTLS(s.config), &s.log}
}

type serverCreds struct {
	credentials.TransportCredentials
	log *handshakeLog
}

func (c serverCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ServerHandshake(conn)
	if err != nil {
		c.log.failed(conn.RemoteAddr().String(), err)
	}
	return out, info, err
}

func (c serverCreds) Clone() credentials.TransportCredentials {
	return serverCreds{c.TransportCredentials.Clone(), c.log}
}

// GRPCCredentials are the client's gRPC transport credentials: TLS with
// the client's configuration, a failed handshake explained (Explain).
func (c *Client) GRPCCredentials() credentials.TransportCredentials {
	return clientCreds{credentials.NewTLS(c.config), c}
}

type clientCreds struct {
	credentials.TransportCredentials
	c *Client
}

func (cc clientCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := cc.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		return nil, nil, cc.c.Explain(authority, err)
	}
	return conn, info, nil
}

func (cc clientCreds) Clone() credentials.TransportCredentials {
	return clientCreds{cc.TransportCredentials.Clone(), cc.c}
}

// SpeaksTLS says whether the server at addr answers a TLS handshake: a
// plaintext client's connection that failed at once is explained with it.
// The handshake checks nothing and sends nothing after it; it only tells
// a TLS server from another.
func SpeaksTLS(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// Detection only: nothing is verified, and no data is sent.
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
		return true
	}
	var op *net.OpError
	// A TLS alert (a client certificate required, say) is TLS too.
	return errors.As(err, &op) && op.Op == "remote error"
}

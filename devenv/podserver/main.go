// podserver is the stand-in the node agent runs for a container whose image it cannot run (any image but
// agnhost): it serves every containerPort the pod declares, so Services, probes and load balancers reach a
// real process at the pod's address.
//
//	podserver POD_NAME tcp:8080 udp:53 ...
//
// TCP: a connection whose first bytes look like an HTTP request gets HTTP (`/hostname`, `/clientip`,
// `/healthz`, `/`), as agnhost netexec answers them; anything else is echoed back. UDP: each datagram is
// echoed back to its sender.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type portSpec struct {
	protocol string // "tcp" or "udp"
	port     int
}

func parseSpec(spec string) (portSpec, error) {
	protocol, portText, ok := strings.Cut(spec, ":")
	protocol = strings.ToLower(protocol)
	port, err := strconv.Atoi(portText)
	if !ok || (protocol != "tcp" && protocol != "udp") || err != nil || port < 1 || port > 65535 {
		return portSpec{}, fmt.Errorf("port spec %q: want tcp:PORT or udp:PORT (1-65535)", spec)
	}
	return portSpec{protocol, port}, nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("podserver: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: podserver POD_NAME [tcp:PORT|udp:PORT]...")
	}
	podName := os.Args[1]
	var specs []portSpec
	for _, arg := range os.Args[2:] {
		spec, err := parseSpec(arg)
		if err != nil {
			log.Fatal(err)
		}
		specs = append(specs, spec)
	}
	for _, spec := range specs {
		address := ":" + strconv.Itoa(spec.port)
		if spec.protocol == "udp" {
			conn, err := net.ListenPacket("udp", address)
			if err != nil {
				log.Fatal(err)
			}
			go echoUDP(conn)
		} else {
			listener, err := net.Listen("tcp", address)
			if err != nil {
				log.Fatal(err)
			}
			go serveTCP(listener, podName)
		}
		log.Printf("%s serving %s%s", podName, spec.protocol, address)
	}
	// No ports declared: stay up as the pod's process until told to stop.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

func echoUDP(conn net.PacketConn) {
	buffer := make([]byte, 65535)
	for {
		n, from, err := conn.ReadFrom(buffer)
		if err != nil {
			log.Printf("udp: %v", err)
			return
		}
		_, _ = conn.WriteTo(buffer[:n], from)
	}
}

// serveTCP hands HTTP-looking connections to one http.Server (through a channel listener) and echoes the rest.
func serveTCP(listener net.Listener, podName string) {
	httpConns := &chanListener{conns: make(chan net.Conn), addr: listener.Addr()}
	server := &http.Server{Handler: handler(podName), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(httpConns) }()
	for {
		conn, err := listener.Accept()
		if err != nil {
			log.Printf("tcp: %v", err)
			return
		}
		go func() {
			reader := bufio.NewReader(conn)
			if looksLikeHTTP(reader) {
				httpConns.conns <- &peekedConn{Conn: conn, reader: reader}
				return
			}
			defer conn.Close()
			_, _ = io.Copy(conn, reader)
		}()
	}
}

var httpMethods = []string{"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// looksLikeHTTP waits for the first bytes and says whether they start with an HTTP method. A client that sends
// only part of a method name at first gets a moment for the rest.
func looksLikeHTTP(reader *bufio.Reader) bool {
	if _, err := reader.Peek(1); err != nil {
		return false
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for {
		head, _ := reader.Peek(reader.Buffered())
		prefix := false
		for _, method := range httpMethods {
			if strings.HasPrefix(string(head), method) {
				return true
			}
			if strings.HasPrefix(method, string(head)) {
				prefix = true
			}
		}
		if !prefix || time.Now().After(deadline) {
			return false
		}
		// Wait for one more byte than we have (Peek blocks until then or the connection ends).
		if _, err := reader.Peek(len(head) + 1); err != nil {
			return false
		}
	}
}

func handler(podName string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, podName) })
	// agnhost prints the peer as ip:port.
	mux.HandleFunc("/clientip", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.RemoteAddr) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.URL.Query().Get("msg")) })
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "NOW: %s\n%s\n", time.Now().UTC().Format(time.RFC3339Nano), podName)
	})
	return mux
}

// chanListener is a net.Listener fed by serveTCP with the connections that speak HTTP.
type chanListener struct {
	conns chan net.Conn
	addr  net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	conn, ok := <-l.conns
	if !ok {
		return nil, errors.New("closed")
	}
	return conn, nil
}
func (l *chanListener) Close() error   { return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// peekedConn reads through the buffered reader that holds the bytes looksLikeHTTP peeked at.
type peekedConn struct {
	net.Conn
	reader *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.reader.Read(p) }

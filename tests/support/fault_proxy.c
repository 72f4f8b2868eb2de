/* fault_proxy: an HTTP proxy for the agent's sync fault tests. It sits between
 * carefact-agent and carefactd on loopback and, per request, does what the first
 * line of a mode file says (re-read for every request, so a test switches modes by
 * rewriting the file):
 *
 *   pass          forward the request, return the answer
 *   drop          forward the request, read the answer (the server has COMMITted),
 *                 then close the client's connection without a byte: a lost response
 *   portal        answer 200 text/html without asking the server (a captive portal)
 *   redirect      answer 302 to a login page
 *   status N      answer status N with a problem+json body, without the server
 *   limit BYTES   413 for a request body over BYTES, else forward
 *   ack-ahead     forward, then replace a 200 answer with an acknowledgement of a
 *                 seq the device never made
 *
 * usage: fault_proxy --listen PORT --upstream PORT --mode-file FILE [--log FILE]
 * Prints "ready" on stdout when listening. One request per connection, served in
 * turn (the agent is the only client). Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_MESSAGE (32u << 20)

/* The client's side of the proxy. */
struct conn {
    int fd;
};

static ssize_t conn_read(struct conn *c, char *buf, size_t len)
{
    return read(c->fd, buf, len);
}

static ssize_t conn_write(struct conn *c, const char *buf, size_t len)
{
    return write(c->fd, buf, len);
}

struct message {
    char *data;
    size_t len, header_len, content_length;
};

static int connect_upstream(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static size_t header_value(const char *headers, size_t len, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = headers; p && p < headers + len; p = strstr(p, "\r\n")) {
        if (p != headers)
            p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':')
            return (size_t)strtoul(p + n + 1, NULL, 10);
    }
    return 0;
}

/* Read one HTTP message (headers + Content-Length body). Returns 0 or -1. */
static int read_message(struct conn *c, struct message *m)
{
    size_t cap = 65536;
    memset(m, 0, sizeof *m);
    m->data = malloc(cap + 1);
    while (m->data) {
        if (m->header_len && m->len >= m->header_len + m->content_length)
            return 0;
        if (m->len == cap) {
            if (cap >= MAX_MESSAGE)
                break;
            cap *= 2;
            char *grown = realloc(m->data, cap + 1);
            if (!grown)
                break;
            m->data = grown;
        }
        ssize_t n = conn_read(c, m->data + m->len, cap - m->len);
        if (n <= 0)
            break;
        m->len += (size_t)n;
        m->data[m->len] = '\0';
        char *end = m->header_len ? NULL : strstr(m->data, "\r\n\r\n");
        if (end) {
            m->header_len = (size_t)(end - m->data) + 4;
            m->content_length = header_value(m->data, m->header_len, "Content-Length");
        }
    }
    free(m->data);
    m->data = NULL;
    return -1;
}

static void write_all(struct conn *c, const char *data, size_t len)
{
    while (len) {
        ssize_t n = conn_write(c, data, len);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void reply(struct conn *fd, int status, const char *type, const char *extra,
                  const char *body)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d Fault\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, type, strlen(body), extra);
    write_all(fd, head, (size_t)n);
    write_all(fd, body, strlen(body));
}

static void read_mode(const char *file, char *mode, size_t size)
{
    FILE *f = fopen(file, "r");
    snprintf(mode, size, "pass");
    if (f) {
        if (fgets(mode, (int)size, f))
            mode[strcspn(mode, "\r\n")] = '\0';
        fclose(f);
    }
}

/* Forward the request; *answer receives the server's answer. */
static int forward(int upstream_port, const struct message *req, struct message *answer)
{
    struct conn up = {.fd = connect_upstream(upstream_port)};
    if (up.fd < 0)
        return -1;
    write_all(&up, req->data, req->len);
    int rc = read_message(&up, answer);
    close(up.fd);
    return rc;
}

static const char ack_ahead[] = "{\"acked_seq\":999999,\"epoch\":\"00000000-0000-4000-8000-"
                                "000000000000\",\"server_time_ms\":1790000000000,\"stored\":0}";

/* A whole number in [min, max] from text (a mode argument or a flag), or -1. */
static long number_arg(const char *text, long min, long max)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    return end != text && *end == '\0' && v >= min && v <= max ? v : -1;
}

static const char *serve(struct conn *client, int upstream, const char *mode)
{
    struct message req, answer;
    if (read_message(client, &req))
        return "bad-request";
    const char *what = mode;
    /* The argument of "status N" / "limit BYTES", -1 for another or a bad one. */
    long status = strncmp(mode, "status ", 7) == 0 ? number_arg(mode + 7, 100, 599) : -1;
    long limit = strncmp(mode, "limit ", 6) == 0 ? number_arg(mode + 6, 0, LONG_MAX) : -1;
    if (strcmp(mode, "portal") == 0) {
        reply(client, 200, "text/html", "",
              "<html><body>Добро пожаловать! Войдите в сеть.</body></html>");
    } else if (strcmp(mode, "redirect") == 0) {
        reply(client, 302, "text/html", "Location: http://login.portal.example/\r\n", "");
    } else if (status > 0) {
        reply(client, (int)status, "application/problem+json", "",
              "{\"type\":\"https://carefact.example/problems/fault\",\"title\":\"Fault\","
              "\"status\":0,\"detail\":\"injected by fault_proxy\"}");
    } else if (limit >= 0 && req.content_length > (size_t)limit) {
        reply(client, 413, "application/problem+json", "",
              "{\"type\":\"https://carefact.example/problems/too-large\",\"title\":\"Too "
              "large\",\"status\":413,\"detail\":\"injected by fault_proxy\"}");
        what = "limit-413";
    } else if (forward(upstream, &req, &answer) != 0) {
        what = "upstream-failed"; /* the client sees the connection close */
    } else {
        if (strcmp(mode, "drop") == 0) {
            what = "dropped-after-answer";
        } else if (strcmp(mode, "ack-ahead") == 0 && strstr(answer.data, " 200 ")) {
            reply(client, 200, "application/json", "", ack_ahead);
        } else {
            write_all(client, answer.data, answer.len);
            what = "forwarded";
        }
        free(answer.data);
    }
    free(req.data);
    return what;
}

int main(int argc, char **argv)
{
    int listen_port = 0, upstream = 0;
    const char *mode_file = NULL, *log_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            listen_port = (int)number_arg(argv[i + 1], 1, 65535);
        else if (strcmp(argv[i], "--upstream") == 0)
            upstream = (int)number_arg(argv[i + 1], 1, 65535);
        else if (strcmp(argv[i], "--mode-file") == 0)
            mode_file = argv[i + 1];
        else if (strcmp(argv[i], "--log") == 0)
            log_file = argv[i + 1];
    }
    if (listen_port <= 0 || upstream <= 0 || !mode_file) {
        fprintf(stderr, "usage: fault_proxy --listen PORT --upstream PORT --mode-file FILE "
                        "[--log FILE]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16)) {
        fprintf(stderr, "fault_proxy: cannot listen on %d: %s\n", listen_port, strerror(errno));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        struct conn client = {.fd = accept(fd, NULL, NULL)};
        if (client.fd < 0)
            continue;
        char mode[64];
        read_mode(mode_file, mode, sizeof mode);
        const char *what = serve(&client, upstream, mode);
        close(client.fd);
        FILE *log = log_file ? fopen(log_file, "a") : NULL;
        if (log) {
            fprintf(log, "%s\n", what);
            fclose(log);
        }
    }
}

/*
 * sigil-hook-tool: the client half of Sigil's hook tools (Juju's jujuc).
 *
 * The binary is symlinked under every tool name (relation-get, config-get, ...) in a
 * per-unit directory on the hook's PATH; the basename of argv[0] selects the tool. Run as
 * `sigil-hook-tool <tool> [args...]` it takes the tool name from argv[1] instead.
 *
 * It connects to the unit agent at $JUJU_AGENT_SOCKET_ADDRESS (a leading '@' names a
 * Linux abstract socket, anything else is a filesystem path), sends the request for
 * $JUJU_CONTEXT_ID, copies the response's stdout and stderr to its own and exits with the
 * response's code. It never reads stdin unless the agent says the tool needs it. It is C
 * so that a call costs a few milliseconds: a Node process per call costs 60-80 ms.
 *
 * Wire format (integers big-endian), shared with packages/agent/src/hook-tools/server.ts.
 * Each message is a frame:
 *
 *     u32 payload length | payload
 *
 * Request payload, NUL-separated fields, then raw stdin bytes:
 *
 *     "SIGIL-HOOK-TOOL/1" \0 stdin-flag \0 context-id \0 cwd \0 command \0
 *     argc \0 arg[0] \0 ... arg[argc-1] \0 [stdin bytes]
 *
 *   stdin-flag is "1" when stdin bytes follow (possibly none), "0" when not sent.
 *
 * Response payload:
 *
 *     u8 kind | i32 exit code | u32 stdout length | stdout bytes | stderr bytes
 *
 *   kind 'R' is a result. Kind 'I' means the tool needs stdin (Juju's "hook tool requires
 *   stdin, none supplied"): the client reads all of stdin and resends the request with
 *   stdin-flag "1" on the same connection.
 *
 * If the agent cannot be reached the client prints an ERROR line and exits 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PROTOCOL "SIGIL-HOOK-TOOL/1"
#define SELF_NAME "sigil-hook-tool"
#define HINT "(hook tools work only inside a hook or `sigil exec`)"

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

static void die_oom(void) {
    fputs("ERROR out of memory\n", stderr);
    exit(2);
}

static void buf_reserve(struct buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) die_oom();
    b->data = p;
    b->cap = cap;
}

static void buf_append(struct buf *b, const void *data, size_t n) {
    buf_reserve(b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

/* Appends a NUL-terminated field, terminator included. */
static void buf_field(struct buf *b, const char *s) {
    buf_append(b, s, strlen(s) + 1);
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int write_all(int fd, const char *p, size_t n, int is_socket) {
    while (n > 0) {
        ssize_t w = is_socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes; returns 0, or -1 with errno set (ECONNRESET on early EOF). */
static int read_exact(int fd, unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) {
            errno = ECONNRESET;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void read_stdin(struct buf *b) {
    for (;;) {
        buf_reserve(b, 65536);
        ssize_t r = read(0, b->data + b->len, b->cap - b->len);
        if (r < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "ERROR cannot read stdin: %s\n", strerror(errno));
            exit(2);
        }
        if (r == 0) return;
        b->len += (size_t)r;
    }
}

/* Builds a complete request frame (length prefix included). */
static void build_request(struct buf *req, const char *context_id, const char *cwd, const char *command,
                          int argc, char **argv, const struct buf *stdin_data) {
    char count[32];
    req->len = 0;
    buf_reserve(req, 4);
    req->len = 4;
    buf_field(req, PROTOCOL);
    buf_field(req, stdin_data ? "1" : "0");
    buf_field(req, context_id);
    buf_field(req, cwd);
    buf_field(req, command);
    snprintf(count, sizeof count, "%d", argc);
    buf_field(req, count);
    for (int i = 0; i < argc; i++) buf_field(req, argv[i]);
    if (stdin_data && stdin_data->len > 0) buf_append(req, stdin_data->data, stdin_data->len);
    if (req->len - 4 > UINT32_MAX) {
        fputs("ERROR request too large\n", stderr);
        exit(2);
    }
    put_u32((unsigned char *)req->data, (uint32_t)(req->len - 4));
}

static int try_connect(const struct sockaddr_un *sa, socklen_t len) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (const struct sockaddr *)sa, len) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/*
 * An abstract socket's name is its whole address, length included. Node (libuv) binds
 * abstract names padded with NULs to the full sun_path, Go and most C programs bind the
 * exact length; try Node's form first (the agent is Node), then the exact one.
 */
static int connect_agent(const char *address) {
    struct sockaddr_un sa;
    size_t n = strlen(address);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (address[0] == '@') {
        if (n > sizeof sa.sun_path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(sa.sun_path + 1, address + 1, n - 1);
        int fd = try_connect(&sa, (socklen_t)sizeof sa);
        if (fd >= 0 || errno != ECONNREFUSED) return fd;
        int fd_exact = try_connect(&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
        if (fd_exact >= 0) return fd_exact;
        errno = ECONNREFUSED;
        return -1;
    }
    if (n >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, address, n);
    return try_connect(&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1));
}

static void lost(const char *address) {
    fprintf(stderr, "ERROR lost connection to the Sigil agent at %s: %s %s\n", address, strerror(errno), HINT);
    exit(2);
}

int main(int argc, char **argv) {
    const char *command = argc > 0 ? base_name(argv[0]) : SELF_NAME;
    int first_arg = 1;
    if (strcmp(command, SELF_NAME) == 0) {
        if (argc < 2) {
            fputs("Usage: " SELF_NAME " <hook tool> [args...]\n", stderr);
            return 2;
        }
        command = argv[1];
        first_arg = 2;
    }

    const char *address = getenv("JUJU_AGENT_SOCKET_ADDRESS");
    if (!address || !*address) {
        fputs("ERROR JUJU_AGENT_SOCKET_ADDRESS not set " HINT "\n", stderr);
        return 2;
    }
    const char *context_id = getenv("JUJU_CONTEXT_ID");
    if (!context_id || !*context_id) {
        fputs("ERROR JUJU_CONTEXT_ID not set " HINT "\n", stderr);
        return 2;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "ERROR cannot determine the working directory: %s\n", strerror(errno));
        return 2;
    }

    int fd = connect_agent(address);
    if (fd < 0) {
        fprintf(stderr, "ERROR cannot connect to the Sigil agent at %s: %s %s\n", address, strerror(errno), HINT);
        return 2;
    }

    struct buf req = {0}, in = {0};
    build_request(&req, context_id, cwd, command, argc - first_arg, argv + first_arg, NULL);
    for (int attempt = 0;; attempt++) {
        unsigned char head[4 + 1 + 4 + 4];
        if (write_all(fd, req.data, req.len, 1) < 0) lost(address);
        if (read_exact(fd, head, sizeof head) < 0) lost(address);
        uint32_t length = get_u32(head);
        uint32_t out_len = get_u32(head + 9);
        if (length < 9 || out_len > length - 9) {
            errno = EPROTO;
            lost(address);
        }
        if (head[4] == 'I') {
            if (attempt > 0) {
                fputs("ERROR the Sigil agent asked for stdin twice\n", stderr);
                return 2;
            }
            read_stdin(&in);
            build_request(&req, context_id, cwd, command, argc - first_arg, argv + first_arg, &in);
            continue;
        }
        size_t body_len = length - 9;
        unsigned char *body = malloc(body_len ? body_len : 1);
        if (!body) die_oom();
        if (read_exact(fd, body, body_len) < 0) lost(address);
        close(fd);
        int code = (int)get_u32(head + 5);
        if (write_all(1, (const char *)body, out_len, 0) < 0) return 2;
        if (write_all(2, (const char *)body + out_len, body_len - out_len, 0) < 0) return 2;
        return code & 0xff;
    }
}

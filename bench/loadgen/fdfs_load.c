/*
 * fdfs_load: a lean FastDFS load generator (raw protocol, one thread and two persistent connections per client).
 *
 * Its point is to cost the machine less per operation than the servers it measures: on a shared 2-core machine
 * every microsecond a generator spends is one the servers do not get (docs/benchmarks.md, "Lean client").
 * Every operation asks the tracker first, as the stock tools do; every uploaded name is checked against the size
 * and CRC-32 the generator sent, every downloaded byte is checked against the size and CRC-32 in the file's name.
 *
 *   fdfs_load upload|download --tracker IP:PORT [-n 8] [-s 4KB] [-d SECONDS | -c COUNT]
 *             [--save-ids FILE] [--file-ids FILE] [--server-pid PID[,PID]] [--json FILE] [--ext bin]
 *
 * download needs --file-ids (one group/M00/... id per line, as `fdfs bench --save-ids` or upload --save-ids
 * write). Output: a summary on stdout and, with --json, the fields `fdfs bench --json` writes (ops, errors,
 * opsPerSecond, megabytesPerSecond, latencyMicros, clientCpuMicrosPerOp, server) plus serverByPid.
 * Exit code 0 when every operation succeeded.
 *
 * Build: cc -O2 -pthread -o fdfs_load fdfs_load.c -lz -ldl   (bench/matrix.sh builds it when LOADGEN=lean)
 * CRC-32: libdeflate's (about twice zlib's speed here) when libdeflate.so.0 is installed, else zlib's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---- protocol constants (docs/protocol in the repo describes them) ---- */
enum {
    HEADER_SIZE = 10,
    GROUP_LEN = 16,
    IP_LEN = 15,
    CMD_RESP = 100,
    TRACKER_QUERY_STORE_WITHOUT_GROUP_ONE = 101,
    TRACKER_QUERY_FETCH_ONE = 102,
    STORAGE_UPLOAD_FILE = 11,
    STORAGE_DOWNLOAD_FILE = 14,
    CMD_QUIT = 82,
};

#define MAX_ID_LEN 256
#define VARIANTS 64 /* distinct upload contents, so the storage cannot see one body over and over */
#define VARIANT_STRIDE 4099
#define RECV_CHUNK (256 * 1024)
#define MAX_PIDS 8

/* ---- latency histogram: exact below 64 us, 32 sub-buckets per power of two above (< 3.2% error) ---- */
#define SUB 32
#define EXACT 64
#define POWERS 40
#define BUCKETS (EXACT + POWERS * SUB)

static int bucket_of(uint64_t us) {
    if (us < EXACT) return (int)us;
    int p = 63 - __builtin_clzll(us); /* us >= 64, p >= 6 */
    int sub = (int)((us >> (p - 5)) & (SUB - 1));
    int b = EXACT + (p - 6) * SUB + sub;
    return b < BUCKETS ? b : BUCKETS - 1;
}

static double bucket_value(int b) { /* midpoint of the bucket */
    if (b < EXACT) return b;
    int p = (b - EXACT) / SUB + 6, sub = (b - EXACT) % SUB;
    double lo = (double)(1ULL << p) + (double)sub * (double)(1ULL << (p - 5));
    return lo + (double)(1ULL << (p - 5)) / 2;
}

/* ---- options ---- */
static int opt_upload = 1;
static char opt_tracker_ip[64];
static int opt_tracker_port;
static int opt_clients = 8;
static uint64_t opt_size = 4096;
static double opt_duration;
static uint64_t opt_count;
static const char *opt_save_ids, *opt_file_ids, *opt_json;
static char opt_ext[8] = "bin";
static int server_pids[MAX_PIDS], server_pid_count;

/* ---- shared state ---- */
static unsigned char *pattern;           /* upload contents: variant v = pattern + v * VARIANT_STRIDE */
static uint32_t variant_crc[VARIANTS];
static char **file_ids;                  /* download working set */
static size_t file_id_count;
static atomic_uint_fast64_t next_op;     /* op numbers claimed by the workers */
static atomic_int stop_flag;
static long clock_ticks;

/* CRC-32 (zlib's polynomial): libdeflate_crc32 when the library is there, checked against zlib at start. */
typedef uint32_t (*crc_fn)(uint32_t crc, const void *data, size_t len);
static crc_fn fast_crc;
static const char *crc_impl = "zlib";

static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n) {
    if (fast_crc) return fast_crc(crc, p, n);
    while (n > 0) { /* zlib takes uInt lengths */
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

static void pick_crc(void) {
    void *lib = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
    crc_fn f = lib ? (crc_fn)dlsym(lib, "libdeflate_crc32") : NULL;
    if (!f) return;
    unsigned char probe[4099];
    for (size_t i = 0; i < sizeof probe; i++) probe[i] = (unsigned char)(i * 131 + (i >> 7));
    if (f(0, probe, sizeof probe) == (uint32_t)crc32(0, probe, sizeof probe)) { fast_crc = f; crc_impl = "libdeflate"; }
}

typedef struct {
    int index;
    int tracker_fd, storage_fd;
    char storage_ip[IP_LEN + 1];
    int storage_port;
    uint64_t ops, bytes, errors, verify_errors, errno_counts[256];
    uint64_t hist[BUCKETS];
    uint64_t max_us, sum_us;
    char *ids;                            /* uploaded ids, newline-separated */
    size_t ids_len, ids_cap;
    unsigned char *buf;
} worker_t;

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "fdfs_load: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static uint64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

static void put_be64(unsigned char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) { p[i] = (unsigned char)v; v >>= 8; }
}

static uint64_t get_be64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static uint64_t parse_size(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) die("bad size: %s", s);
    if (!strcasecmp(end, "") || !strcasecmp(end, "B")) return (uint64_t)v;
    if (!strcasecmp(end, "KB") || !strcasecmp(end, "K")) return (uint64_t)(v * 1024);
    if (!strcasecmp(end, "MB") || !strcasecmp(end, "M")) return (uint64_t)(v * 1024 * 1024);
    if (!strcasecmp(end, "GB") || !strcasecmp(end, "G")) return (uint64_t)(v * 1024 * 1024 * 1024);
    die("bad size unit: %s", s);
    return 0;
}

/* ---- sockets ---- */
static int connect_to(const char *ip, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 60};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static int send_all_iov(int fd, struct iovec *iov, int n) {
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) { w -= (ssize_t)iov->iov_len; iov++; n--; }
        if (n > 0) { iov->iov_base = (char *)iov->iov_base + w; iov->iov_len -= (size_t)w; }
    }
    return 0;
}

static int recv_all(int fd, void *p, size_t n) {
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r == 0) { errno = ECONNRESET; return -1; }
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p = (char *)p + r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads a reply header; returns the body length, or -1 (errno set) on a broken connection. *status gets the
 * header's status byte. */
static int64_t recv_header(int fd, int *status) {
    unsigned char h[HEADER_SIZE];
    if (recv_all(fd, h, sizeof h) != 0) return -1;
    if (h[8] != CMD_RESP) { errno = EPROTO; return -1; }
    *status = h[9];
    return (int64_t)get_be64(h);
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* ---- FastDFS base64 of the name's 20 bytes (A-Z a-z 0-9 - _) ---- */
static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Size and CRC-32 from a logic name "Mxx/HH/LL/<27 chars>..."; 0 on success. */
static int name_size_crc(const char *name, uint64_t *size, uint32_t *crc) {
    if (strlen(name) < 10 + 27) return -1;
    unsigned char raw[21];
    uint32_t acc = 0;
    int bits = 0, n = 0;
    for (int i = 0; i < 27; i++) {
        int v = b64_value(name[10 + i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; raw[n++] = (unsigned char)(acc >> bits); }
    }
    if (n < 20) return -1;
    uint64_t field = get_be64(raw + 8);
    int trunk = (int)((field >> 59) & 1);
    *size = (field >> 63) || trunk ? (field & 0xFFFFFFFFu) : field;
    *crc = ((uint32_t)raw[16] << 24) | ((uint32_t)raw[17] << 16) | ((uint32_t)raw[18] << 8) | raw[19];
    return 0;
}

/* ---- one operation ---- */
static void count_error(worker_t *w, int err) {
    w->errors++;
    w->errno_counts[err > 0 && err < 256 ? err : 255]++;
}

/* Asks the tracker; on success fills group/ip/port (and the store path for uploads). 0, an errno from the
 * tracker's status (> 0), or -1 for a broken connection. */
static int tracker_query(worker_t *w, int upload, const char *id, char *group, char *ip, int *port, int *store_path) {
    if (w->tracker_fd < 0 && (w->tracker_fd = connect_to(opt_tracker_ip, opt_tracker_port)) < 0) return -1;
    unsigned char req[HEADER_SIZE + GROUP_LEN + MAX_ID_LEN];
    size_t body = 0;
    if (!upload) {
        const char *slash = strchr(id, '/');
        size_t glen = (size_t)(slash - id), nlen = strlen(slash + 1);
        memset(req + HEADER_SIZE, 0, GROUP_LEN);
        memcpy(req + HEADER_SIZE, id, glen);
        memcpy(req + HEADER_SIZE + GROUP_LEN, slash + 1, nlen);
        body = GROUP_LEN + nlen;
    }
    put_be64(req, body);
    req[8] = upload ? TRACKER_QUERY_STORE_WITHOUT_GROUP_ONE : TRACKER_QUERY_FETCH_ONE;
    req[9] = 0;
    struct iovec iov = {req, HEADER_SIZE + body};
    int status;
    int64_t len;
    if (send_all_iov(w->tracker_fd, &iov, 1) != 0 || (len = recv_header(w->tracker_fd, &status)) < 0) {
        close_fd(&w->tracker_fd);
        return -1;
    }
    size_t want = upload ? GROUP_LEN + IP_LEN + 8 + 1 : GROUP_LEN + IP_LEN + 8;
    if (status != 0 || (size_t)len != want) {
        if (len > 0 && (size_t)len <= sizeof req && recv_all(w->tracker_fd, req, (size_t)len) != 0) close_fd(&w->tracker_fd);
        else if ((size_t)len > sizeof req) close_fd(&w->tracker_fd);
        return status != 0 ? status : EPROTO;
    }
    unsigned char r[GROUP_LEN + IP_LEN + 8 + 1];
    if (recv_all(w->tracker_fd, r, want) != 0) {
        close_fd(&w->tracker_fd);
        return -1;
    }
    memcpy(group, r, GROUP_LEN);
    group[GROUP_LEN] = 0;
    memcpy(ip, r + GROUP_LEN, IP_LEN);
    ip[IP_LEN] = 0;
    *port = (int)get_be64(r + GROUP_LEN + IP_LEN);
    if (upload) *store_path = r[GROUP_LEN + IP_LEN + 8];
    return 0;
}

static int storage_connection(worker_t *w, const char *ip, int port) {
    if (w->storage_fd >= 0 && (port != w->storage_port || strcmp(ip, w->storage_ip) != 0)) close_fd(&w->storage_fd);
    if (w->storage_fd < 0) {
        if ((w->storage_fd = connect_to(ip, port)) < 0) return -1;
        snprintf(w->storage_ip, sizeof w->storage_ip, "%s", ip);
        w->storage_port = port;
    }
    return 0;
}

/* Drains a refused reply's body so the connection stays usable. */
static void skip_body(worker_t *w, int64_t len) {
    while (len > 0) {
        size_t n = len > RECV_CHUNK ? RECV_CHUNK : (size_t)len;
        if (recv_all(w->storage_fd, w->buf, n) != 0) { close_fd(&w->storage_fd); return; }
        len -= (int64_t)n;
    }
}

static int do_upload(worker_t *w, uint64_t op) {
    char group[GROUP_LEN + 1], ip[IP_LEN + 1];
    int port, store_path, rc;
    if ((rc = tracker_query(w, 1, NULL, group, ip, &port, &store_path)) != 0) return rc < 0 ? ECONNRESET : rc;
    if (storage_connection(w, ip, port) != 0) return ECONNREFUSED;

    int variant = (int)(op % VARIANTS);
    unsigned char head[HEADER_SIZE + 1 + 8 + 6];
    put_be64(head, 1 + 8 + 6 + opt_size);
    head[8] = STORAGE_UPLOAD_FILE;
    head[9] = 0;
    head[10] = (unsigned char)store_path;
    put_be64(head + 11, opt_size);
    memset(head + 19, 0, 6);
    memcpy(head + 19, opt_ext, strlen(opt_ext));
    struct iovec iov[2] = {{head, sizeof head}, {pattern + (size_t)variant * VARIANT_STRIDE, opt_size}};
    int status;
    int64_t len;
    if (send_all_iov(w->storage_fd, iov, 2) != 0 || (len = recv_header(w->storage_fd, &status)) < 0) {
        close_fd(&w->storage_fd);
        return ECONNRESET;
    }
    if (status != 0 || len <= GROUP_LEN || len > GROUP_LEN + MAX_ID_LEN) {
        skip_body(w, len);
        return status != 0 ? status : EPROTO;
    }
    unsigned char r[GROUP_LEN + MAX_ID_LEN + 1];
    if (recv_all(w->storage_fd, r, (size_t)len) != 0) {
        close_fd(&w->storage_fd);
        return ECONNRESET;
    }
    r[len] = 0;
    const char *name = (const char *)r + GROUP_LEN;
    uint64_t size;
    uint32_t crc;
    if (name_size_crc(name, &size, &crc) != 0 || size != opt_size || crc != variant_crc[variant]) {
        w->verify_errors++;
        return -2;
    }
    if (opt_save_ids) {
        char g[GROUP_LEN + 1];
        memcpy(g, r, GROUP_LEN);
        g[GROUP_LEN] = 0;
        size_t need = strlen(g) + 1 + strlen(name) + 1;
        if (w->ids_len + need + 1 > w->ids_cap) {
            w->ids_cap = (w->ids_cap + need) * 2;
            if (!(w->ids = realloc(w->ids, w->ids_cap))) die("%s", "out of memory");
        }
        w->ids_len += (size_t)sprintf(w->ids + w->ids_len, "%s/%s\n", g, name);
    }
    w->bytes += opt_size;
    return 0;
}

static int do_download(worker_t *w, uint64_t op) {
    const char *id = file_ids[op % file_id_count];
    char group[GROUP_LEN + 1], ip[IP_LEN + 1];
    int port, rc;
    if ((rc = tracker_query(w, 0, id, group, ip, &port, NULL)) != 0) return rc < 0 ? ECONNRESET : rc;
    if (storage_connection(w, ip, port) != 0) return ECONNREFUSED;

    const char *slash = strchr(id, '/');
    size_t glen = (size_t)(slash - id), nlen = strlen(slash + 1);
    unsigned char req[HEADER_SIZE + 16 + GROUP_LEN + MAX_ID_LEN];
    put_be64(req, 16 + GROUP_LEN + nlen);
    req[8] = STORAGE_DOWNLOAD_FILE;
    req[9] = 0;
    memset(req + HEADER_SIZE, 0, 16 + GROUP_LEN); /* offset 0, length 0 = whole file */
    memcpy(req + HEADER_SIZE + 16, id, glen);
    memcpy(req + HEADER_SIZE + 16 + GROUP_LEN, slash + 1, nlen);
    struct iovec iov = {req, HEADER_SIZE + 16 + GROUP_LEN + nlen};
    int status;
    int64_t len;
    if (send_all_iov(w->storage_fd, &iov, 1) != 0 || (len = recv_header(w->storage_fd, &status)) < 0) {
        close_fd(&w->storage_fd);
        return ECONNRESET;
    }
    if (status != 0) {
        skip_body(w, len);
        return status;
    }
    uint64_t want_size;
    uint32_t want_crc;
    int named = name_size_crc(slash + 1, &want_size, &want_crc) == 0;
    uint32_t crc = 0;
    int64_t left = len;
    while (left > 0) {
        size_t n = left > RECV_CHUNK ? RECV_CHUNK : (size_t)left;
        ssize_t r = recv(w->storage_fd, w->buf, n, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            close_fd(&w->storage_fd);
            return ECONNRESET;
        }
        crc = crc_update(crc, w->buf, (size_t)r);
        left -= r;
    }
    if (!named || (uint64_t)len != want_size || crc != want_crc) {
        w->verify_errors++;
        return -2;
    }
    w->bytes += (uint64_t)len;
    return 0;
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    for (;;) {
        if (atomic_load_explicit(&stop_flag, memory_order_relaxed)) break;
        uint64_t op = atomic_fetch_add_explicit(&next_op, 1, memory_order_relaxed);
        if (opt_count && op >= opt_count) break;
        uint64_t t0 = now_us();
        int rc = opt_upload ? do_upload(w, op) : do_download(w, op);
        uint64_t us = now_us() - t0;
        if (rc == 0) {
            w->ops++;
            w->hist[bucket_of(us)]++;
            w->sum_us += us;
            if (us > w->max_us) w->max_us = us;
        } else if (rc == -2) {
            w->errors++; /* verify error: counted in verify_errors too */
        } else {
            count_error(w, rc);
        }
    }
    unsigned char quit[HEADER_SIZE] = {0};
    quit[8] = CMD_QUIT;
    if (w->tracker_fd >= 0) { (void)!write(w->tracker_fd, quit, sizeof quit); close_fd(&w->tracker_fd); }
    if (w->storage_fd >= 0) { (void)!write(w->storage_fd, quit, sizeof quit); close_fd(&w->storage_fd); }
    return NULL;
}

/* ---- server processes: CPU from /proc/PID/stat, peak VmRSS sampled every 100 ms ---- */
static long long proc_cpu_ticks(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long long utime, stime;
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
    return (long long)(utime + stime);
}

static long long proc_rss_bytes(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) { kb = atoll(line + 6); break; }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

static long long peak_rss[MAX_PIDS];
static atomic_int sampler_stop;

static void *rss_sampler(void *arg) {
    (void)arg;
    while (!atomic_load(&sampler_stop)) {
        for (int i = 0; i < server_pid_count; i++) {
            long long r = proc_rss_bytes(server_pids[i]);
            if (r > peak_rss[i]) peak_rss[i] = r;
        }
        struct timespec t = {0, 100 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return NULL;
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec / 1e6;
}

static void load_ids(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot read %s", path);
    size_t cap = 1024;
    file_ids = malloc(cap * sizeof *file_ids);
    char line[MAX_ID_LEN + 64];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n \t")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char *slash = strchr(line, '/');
        if (!slash || slash == line || slash - line > GROUP_LEN || strlen(slash + 1) >= MAX_ID_LEN)
            die("not a file id: %s", line);
        if (file_id_count == cap) file_ids = realloc(file_ids, (cap *= 2) * sizeof *file_ids);
        file_ids[file_id_count++] = strdup(line);
    }
    fclose(f);
    if (!file_id_count) die("no file ids in %s", path);
}

static void usage(void) {
    fprintf(stderr,
            "usage: fdfs_load upload|download --tracker IP:PORT [-n CLIENTS] [-s SIZE] [-d SECONDS | -c COUNT]\n"
            "                 [--save-ids FILE] [--file-ids FILE] [--server-pid PID[,PID]] [--json FILE] [--ext EXT]\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    if (!strcmp(argv[1], "upload")) opt_upload = 1;
    else if (!strcmp(argv[1], "download")) opt_upload = 0;
    else usage();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() do { if (!v) usage(); i++; } while (0)
        if (!strcmp(a, "--tracker")) {
            NEED_VALUE();
            const char *colon = strrchr(v, ':');
            if (!colon || colon - v >= (long)sizeof opt_tracker_ip) die("bad --tracker: %s", v);
            memcpy(opt_tracker_ip, v, (size_t)(colon - v));
            opt_tracker_port = atoi(colon + 1);
        } else if (!strcmp(a, "-n") || !strcmp(a, "--concurrency")) { NEED_VALUE(); opt_clients = atoi(v); }
        else if (!strcmp(a, "-s") || !strcmp(a, "--size")) { NEED_VALUE(); opt_size = parse_size(v); }
        else if (!strcmp(a, "-d") || !strcmp(a, "--duration")) { NEED_VALUE(); opt_duration = atof(v); }
        else if (!strcmp(a, "-c") || !strcmp(a, "--count")) { NEED_VALUE(); opt_count = strtoull(v, NULL, 10); }
        else if (!strcmp(a, "--save-ids")) { NEED_VALUE(); opt_save_ids = v; }
        else if (!strcmp(a, "--file-ids")) { NEED_VALUE(); opt_file_ids = v; }
        else if (!strcmp(a, "--json")) { NEED_VALUE(); opt_json = v; }
        else if (!strcmp(a, "--ext")) {
            NEED_VALUE();
            if (strlen(v) > 6) die("--ext has at most 6 characters: %s", v);
            snprintf(opt_ext, sizeof opt_ext, "%s", v);
        } else if (!strcmp(a, "--server-pid")) {
            NEED_VALUE();
            char *copy = strdup(v), *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t && server_pid_count < MAX_PIDS; t = strtok_r(NULL, ",", &save))
                server_pids[server_pid_count++] = atoi(t);
            free(copy);
        } else usage();
#undef NEED_VALUE
    }
    if (!opt_tracker_ip[0] || opt_tracker_port <= 0) die("%s", "--tracker IP:PORT is required");
    if (opt_clients < 1) die("%s", "-n must be at least 1");
    if (!opt_count && opt_duration <= 0) opt_duration = 10;
    if (!opt_upload && !opt_file_ids) die("%s", "download needs --file-ids");
    if (opt_upload && opt_size > 0xFFFFFFFFull) die("%s", "sizes up to 4 GB");
    signal(SIGPIPE, SIG_IGN);
    clock_ticks = sysconf(_SC_CLK_TCK);
    pick_crc();

    if (opt_upload) {
        size_t n = (size_t)opt_size + (size_t)VARIANTS * VARIANT_STRIDE;
        if (!(pattern = malloc(n))) die("%s", "out of memory");
        uint64_t x = 0x9E3779B97F4A7C15ull;
        for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; pattern[i] = (unsigned char)x; }
        for (int v = 0; v < VARIANTS; v++)
            variant_crc[v] = crc_update(0, pattern + (size_t)v * VARIANT_STRIDE, (size_t)opt_size);
    } else {
        load_ids(opt_file_ids);
    }

    worker_t *workers = calloc((size_t)opt_clients, sizeof *workers);
    pthread_t *threads = calloc((size_t)opt_clients, sizeof *threads);
    long long cpu0[MAX_PIDS];
    for (int i = 0; i < server_pid_count; i++) cpu0[i] = proc_cpu_ticks(server_pids[i]);
    pthread_t sampler;
    if (server_pid_count) pthread_create(&sampler, NULL, rss_sampler, NULL);
    double client_cpu0 = cpu_seconds();
    uint64_t t0 = now_us();
    for (int i = 0; i < opt_clients; i++) {
        workers[i].index = i;
        workers[i].tracker_fd = workers[i].storage_fd = -1;
        if (!(workers[i].buf = malloc(RECV_CHUNK))) die("%s", "out of memory");
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        if (pthread_create(&threads[i], &attr, worker_main, &workers[i]) != 0) die("%s", "cannot start a thread");
        pthread_attr_destroy(&attr);
    }
    if (!opt_count) {
        uint64_t end = t0 + (uint64_t)(opt_duration * 1e6);
        for (uint64_t t; (t = now_us()) < end;) {
            uint64_t left = end - t;
            struct timespec ts = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        atomic_store(&stop_flag, 1);
    }
    for (int i = 0; i < opt_clients; i++) pthread_join(threads[i], NULL);
    double elapsed = (double)(now_us() - t0) / 1e6;
    double client_cpu = cpu_seconds() - client_cpu0;
    long long cpu1[MAX_PIDS];
    for (int i = 0; i < server_pid_count; i++) cpu1[i] = proc_cpu_ticks(server_pids[i]);
    if (server_pid_count) {
        atomic_store(&sampler_stop, 1);
        pthread_join(sampler, NULL);
        for (int i = 0; i < server_pid_count; i++) {
            long long r = proc_rss_bytes(server_pids[i]);
            if (r > peak_rss[i]) peak_rss[i] = r;
        }
    }

    /* merge */
    uint64_t ops = 0, bytes = 0, errors = 0, verify = 0, max_us = 0, sum_us = 0, errno_counts[256] = {0};
    static uint64_t hist[BUCKETS];
    for (int i = 0; i < opt_clients; i++) {
        worker_t *w = &workers[i];
        ops += w->ops; bytes += w->bytes; errors += w->errors; verify += w->verify_errors; sum_us += w->sum_us;
        if (w->max_us > max_us) max_us = w->max_us;
        for (int b = 0; b < BUCKETS; b++) hist[b] += w->hist[b];
        for (int e = 0; e < 256; e++) errno_counts[e] += w->errno_counts[e];
    }
    double q[5] = {0.5, 0.9, 0.99, 0.999, 0};
    double qv[4] = {0};
    for (int k = 0; k < 4; k++) {
        uint64_t target = (uint64_t)(q[k] * (double)ops + 0.5), seen = 0;
        if (target == 0) target = 1;
        for (int b = 0; b < BUCKETS; b++) {
            seen += hist[b];
            if (seen >= target) { qv[k] = bucket_value(b); break; }
        }
    }
    double total_ops = (double)(ops + errors);
    double per_op = total_ops > 0 ? total_ops : 1;
    double server_cpu_us = 0, by_pid_us[MAX_PIDS];
    long long peak_sum = 0;
    for (int i = 0; i < server_pid_count; i++) {
        by_pid_us[i] = cpu0[i] < 0 || cpu1[i] < 0 ? 0 : (double)(cpu1[i] - cpu0[i]) * 1e6 / (double)clock_ticks;
        server_cpu_us += by_pid_us[i];
        peak_sum += peak_rss[i] > 0 ? peak_rss[i] : 0;
    }
    double mean = ops ? (double)sum_us / (double)ops : 0;

    printf("%s x%d: %llu ops in %.2f s, %.0f ops/s, %.1f MB/s, errors %llu (verify %llu)\n",
           opt_upload ? "upload" : "download", opt_clients, (unsigned long long)ops,
           elapsed, (double)ops / elapsed, (double)bytes / elapsed / 1048576, (unsigned long long)errors,
           (unsigned long long)verify);
    printf("latency us   mean %.0f  p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %llu\n", mean, qv[0], qv[1], qv[2],
           qv[3], (unsigned long long)max_us);
    printf("client CPU   %.1f us/op (CRC-32: %s)\n", client_cpu * 1e6 / per_op, crc_impl);
    for (int i = 0; i < server_pid_count; i++)
        printf("server %d CPU %.1f us/op, peak RSS %lld MB\n", server_pids[i], by_pid_us[i] / per_op,
               peak_rss[i] / 1048576);
    for (int e = 0; e < 256; e++)
        if (errno_counts[e]) printf("errno %d: %llu\n", e, (unsigned long long)errno_counts[e]);

    if (opt_save_ids) {
        FILE *f = fopen(opt_save_ids, "w");
        if (!f) die("cannot write %s", opt_save_ids);
        for (int i = 0; i < opt_clients; i++)
            if (workers[i].ids_len) fwrite(workers[i].ids, 1, workers[i].ids_len, f);
        fclose(f);
    }
    if (opt_json) {
        FILE *f = strcmp(opt_json, "-") ? fopen(opt_json, "w") : stdout;
        if (!f) die("cannot write %s", opt_json);
        fprintf(f, "{\"generator\":\"fdfs_load\",\"operation\":\"%s\",\"concurrency\":%d,",
                opt_upload ? "upload" : "download", opt_clients);
        fprintf(f, "\"ops\":%llu,\"errors\":%llu,\"verifyErrors\":%llu,\"elapsedSeconds\":%.3f,", (unsigned long long)ops,
                (unsigned long long)errors, (unsigned long long)verify, elapsed);
        fprintf(f, "\"opsPerSecond\":%.1f,\"megabytesPerSecond\":%.2f,\"verifiedBytes\":%llu,", (double)ops / elapsed,
                (double)bytes / elapsed / 1048576, (unsigned long long)bytes);
        fprintf(f, "\"errorsByErrno\":{");
        for (int e = 0, first = 1; e < 256; e++)
            if (errno_counts[e]) { fprintf(f, "%s\"%d\":%llu", first ? "" : ",", e, (unsigned long long)errno_counts[e]); first = 0; }
        fprintf(f, "},\"latencyMicros\":{\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p999\":%.0f,\"max\":%llu,\"mean\":%.1f},",
                qv[0], qv[1], qv[2], qv[3], (unsigned long long)max_us, mean);
        fprintf(f, "\"clientCpuMicrosPerOp\":%.1f,\"crc32\":\"%s\"", client_cpu * 1e6 / per_op, crc_impl);
        if (server_pid_count) {
            fprintf(f, ",\"server\":{\"cpuMicrosPerOp\":%.1f,\"peakRssBytes\":%lld},\"serverByPid\":[", server_cpu_us / per_op,
                    peak_sum);
            for (int i = 0; i < server_pid_count; i++)
                fprintf(f, "%s{\"pid\":%d,\"cpuMicrosPerOp\":%.1f,\"peakRssBytes\":%lld}", i ? "," : "", server_pids[i],
                        by_pid_us[i] / per_op, peak_rss[i]);
            fprintf(f, "]");
        }
        fprintf(f, "}\n");
        if (f != stdout) fclose(f);
    }
    return errors ? 1 : 0;
}

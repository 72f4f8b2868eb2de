/* sync_shim: an LD_PRELOAD library that checks a program's durability promise without
 * pulling the plug. It follows every write to the agent's store -- the database file
 * named by CF_SYNC_SHIM_STORE and its "-wal" and "-journal" files -- every fsync and
 * fdatasync, and the creation and removal of those files, and keeps for each file what
 * a power cut would leave of it: its content as of its last sync (a file created since
 * the last sync of its folder would be gone). Then, when the program first writes
 * anything to its stdout or stderr -- the moment its user is told -- it
 *   - logs whether anything written to the store was still unsynced, and
 *   - writes that power-cut image of the store into the folder CF_SYNC_SHIM_IMAGE
 *     (if set), where the test opens it as the next boot would and looks for what the
 *     program said it had recorded.
 * Later outputs are logged too. Unsynced writes are taken as lost entirely (a real disk
 * may keep some of them; the test asks for what must survive, so the worst case).
 *
 * The moment of telling is caught by replacing stdout and stderr with unbuffered
 * streams (fopencookie) whose writes go through the check: the program's stdio writes
 * reach the kernel inside libc, where they cannot be interposed.
 *
 * It appends one line per event to the file named by CF_SYNC_SHIM_LOG:
 *   report clean                    output while everything written was synced
 *   report dirty: NAME...           output while NAME had writes not yet synced (or,
 *                                   as NAME+dirent, was created in an unsynced folder)
 *   image FOLDER                    the power-cut image was written (first output)
 *   summary db W/S wal W/S journal W/S dir S
 *                                   at exit: writes/syncs seen per file
 * The "-shm" file is not followed: it is SQLite's index of the WAL, rebuilt after a
 * crash. An unlinked file is taken as gone at once (SQLite deletes its WAL only after
 * checkpointing it into the database and syncing that). Used by
 * tests/e2e/agent_visit.sh (case durable), which also demands that the summary saw
 * writes and syncs, so a shim that stopped intercepting could not pass. Single-
 * threaded use is assumed: the agent writes its store from one thread. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum kind { K_NONE, K_DB, K_WAL, K_JOURNAL, K_DIR, K_COUNT };
static const char *const kind_name[K_COUNT] = {"-", "db", "wal", "journal", "dir"};

#define MAX_FD 4096
#define PATH_CAP 4096

struct file_state {
    bool dirty; /* written since its last sync */
    bool needs_dirent; /* created since the directory's last sync */
    bool gone; /* unlinked: its contents no longer matter */
    bool known; /* opened at least once by this process */
    unsigned long writes, syncs;
    unsigned char *synced; /* the content as of the last sync (malloc), or NULL */
    size_t synced_len;
};

static struct {
    bool active;
    char path[K_COUNT][PATH_CAP];
    struct file_state file[K_COUNT];
    unsigned char fd_kind[MAX_FD];
    int log_fd;
    char image[PATH_CAP]; /* CF_SYNC_SHIM_IMAGE, or "" */
    const char *store_name; /* the store's file name, within path[K_DB] */
    bool image_taken;
} shim = {.log_fd = -1};

/* ==== Raw output (never through the hooks) ==== */

static void raw_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        long n = syscall(SYS_write, fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

static void log_line(const char *text)
{
    if (shim.log_fd >= 0)
        raw_write_all(shim.log_fd, text, strlen(text));
}

/* Store the next definition of a libc function in *slot (a function pointer: copied
 * as bytes, since ISO C has no conversion from dlsym's void *). None is a broken setup,
 * not a test result. */
static void next(void *slot, const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        static const char msg[] = "sync_shim: no libc function to forward to\n";
        raw_write_all(2, msg, sizeof msg - 1);
        abort();
    }
    memcpy(slot, &f, sizeof f);
}

/* ==== What a power cut would leave ==== */

/* The file's content now, read through fd, becomes what a power cut leaves of it. */
static void keep_synced(enum kind k, int fd)
{
    struct file_state *f = &shim.file[k];
    struct stat st;
    free(f->synced);
    f->synced = NULL;
    f->synced_len = 0;
    if (fstat(fd, &st) != 0 || st.st_size <= 0)
        return;
    unsigned char *copy = malloc((size_t)st.st_size);
    if (!copy)
        abort(); /* a test helper out of memory: no result is better than a wrong one */
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, copy + got, (size_t)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    f->synced = copy;
    f->synced_len = got;
}

static int raw_open(const char *path, int flags)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0600);
}

/* Write the power-cut image into shim.image (once, at the first output). */
static void take_image(void)
{
    static const char *const suffix[K_COUNT] = {"", "", "-wal", "-journal", ""};
    char path[PATH_CAP + 64];
    if (!shim.image[0] || shim.image_taken)
        return;
    shim.image_taken = true;
    syscall(SYS_mkdirat, AT_FDCWD, shim.image, 0700);
    for (int k = K_DB; k < K_DIR; k++) {
        const struct file_state *f = &shim.file[k];
        if (f->gone || f->needs_dirent || !f->synced)
            continue;
        snprintf(path, sizeof path, "%s/%s%s", shim.image, shim.store_name, suffix[k]);
        int fd = raw_open(path, O_WRONLY | O_CREAT | O_TRUNC);
        if (fd < 0)
            continue;
        raw_write_all(fd, (const char *)f->synced, f->synced_len);
        syscall(SYS_close, fd);
    }
    snprintf(path, sizeof path, "image %s\n", shim.image);
    log_line(path);
}

/* ==== Which file is which ==== */

static enum kind kind_of_path(const char *path)
{
    if (!shim.active || !path)
        return K_NONE;
    for (int k = K_DB; k < K_COUNT; k++)
        if (strcmp(path, shim.path[k]) == 0)
            return (enum kind)k;
    return K_NONE;
}

static enum kind kind_of_fd(int fd)
{
    return fd >= 0 && fd < MAX_FD ? (enum kind)shim.fd_kind[fd] : K_NONE;
}

static void note_open(int fd, enum kind k, bool created)
{
    if (fd < 0 || fd >= MAX_FD)
        return;
    shim.fd_kind[fd] = (unsigned char)k;
    if (k == K_NONE || k == K_DIR)
        return;
    struct file_state *f = &shim.file[k];
    if (created) {
        /* A new file: a power cut leaves nothing of it until it and its folder sync. */
        free(f->synced);
        f->synced = NULL;
        f->synced_len = 0;
        f->needs_dirent = true;
    } else if (!f->known || f->gone) {
        /* There before this process (or re-created by another): taken as durable. */
        keep_synced(k, fd);
    }
    f->known = true;
    f->gone = false;
}

static void note_write(int fd, ssize_t written)
{
    enum kind k = kind_of_fd(fd);
    if (k == K_NONE || written <= 0)
        return;
    shim.file[k].dirty = true;
    shim.file[k].writes++;
}

static void note_sync(int fd)
{
    enum kind k = kind_of_fd(fd);
    if (k == K_NONE)
        return;
    shim.file[k].syncs++;
    if (k == K_DIR) {
        for (int j = K_DB; j < K_DIR; j++)
            shim.file[j].needs_dirent = false;
    } else {
        shim.file[k].dirty = false;
        keep_synced(k, fd);
    }
}

/* Output to the user: record whether everything written so far was synced. */
static void note_report(void)
{
    if (!shim.active)
        return;
    char names[128] = "";
    for (int k = K_DB; k < K_DIR; k++) {
        const struct file_state *f = &shim.file[k];
        if (f->gone)
            continue;
        if (f->dirty)
            snprintf(names + strlen(names), sizeof names - strlen(names), " %s", kind_name[k]);
        if (f->needs_dirent)
            snprintf(names + strlen(names), sizeof names - strlen(names), " %s+dirent",
                     kind_name[k]);
    }
    char line[192];
    snprintf(line, sizeof line, "report %s%s\n", names[0] ? "dirty:" : "clean", names);
    log_line(line);
    take_image();
}

/* ==== Hooks: open, write, sync, unlink ==== */

static int open_common(int dirfd, const char *path, int flags, mode_t mode, bool at)
{
    static int (*real_open)(const char *, int, ...);
    static int (*real_openat)(int, const char *, int, ...);
    enum kind k = (dirfd == AT_FDCWD || (path && path[0] == '/')) ? kind_of_path(path) : K_NONE;
    bool existed = true;
    if (k != K_NONE && (flags & O_CREAT)) {
        struct stat st;
        existed = stat(path, &st) == 0;
    }
    int fd;
    if (at) {
        if (!real_openat)
            next(&real_openat, "openat");
        fd = real_openat(dirfd, path, flags, mode);
    } else {
        if (!real_open)
            next(&real_open, "open");
        fd = real_open(path, flags, mode);
    }
    if (fd >= 0)
        note_open(fd, k, !existed);
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, mode, false);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, mode, false);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, mode, true);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, mode, true);
}

/* _FORTIFY_SOURCE turns open(path, flags) without a mode into these. */
int __open_2(const char *path, int flags)
{
    return open_common(AT_FDCWD, path, flags, 0, false);
}

int __open64_2(const char *path, int flags)
{
    return open_common(AT_FDCWD, path, flags, 0, false);
}

int close(int fd)
{
    static int (*real_close)(int);
    if (!real_close)
        next(&real_close, "close");
    if (fd >= 0 && fd < MAX_FD)
        shim.fd_kind[fd] = K_NONE;
    return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        next(&real, "write");
    ssize_t n = real(fd, buf, len);
    note_write(fd, n);
    return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        next(&real, "pwrite");
    ssize_t n = real(fd, buf, len, off);
    note_write(fd, n);
    return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off64_t);
    if (!real)
        next(&real, "pwrite64");
    ssize_t n = real(fd, buf, len, off);
    note_write(fd, n);
    return n;
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real)
        next(&real, "writev");
    ssize_t n = real(fd, iov, count);
    note_write(fd, n);
    return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t off)
{
    static ssize_t (*real)(int, const struct iovec *, int, off_t);
    if (!real)
        next(&real, "pwritev");
    ssize_t n = real(fd, iov, count, off);
    note_write(fd, n);
    return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int count, off64_t off)
{
    static ssize_t (*real)(int, const struct iovec *, int, off64_t);
    if (!real)
        next(&real, "pwritev64");
    ssize_t n = real(fd, iov, count, off);
    note_write(fd, n);
    return n;
}

/* A changed size is a change to the file's metadata: it needs a sync like a write. */
int ftruncate(int fd, off_t len)
{
    static int (*real)(int, off_t);
    if (!real)
        next(&real, "ftruncate");
    int rc = real(fd, len);
    note_write(fd, rc == 0 ? 1 : 0);
    return rc;
}

int ftruncate64(int fd, off64_t len)
{
    static int (*real)(int, off64_t);
    if (!real)
        next(&real, "ftruncate64");
    int rc = real(fd, len);
    note_write(fd, rc == 0 ? 1 : 0);
    return rc;
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        next(&real, "fsync");
    int rc = real(fd);
    if (rc == 0)
        note_sync(fd);
    return rc;
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        next(&real, "fdatasync");
    int rc = real(fd);
    if (rc == 0)
        note_sync(fd);
    return rc;
}

int unlink(const char *path)
{
    static int (*real)(const char *);
    if (!real)
        next(&real, "unlink");
    enum kind k = kind_of_path(path);
    int rc = real(path);
    if (rc == 0 && k != K_NONE && k != K_DIR) {
        struct file_state *f = &shim.file[k];
        f->gone = true;
        f->dirty = false;
        f->needs_dirent = false;
        free(f->synced);
        f->synced = NULL;
        f->synced_len = 0;
    }
    return rc;
}

/* ==== stdout and stderr through the check ==== */

static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
    note_report();
    raw_write_all((int)(intptr_t)cookie, buf, len);
    return (ssize_t)len;
}

static FILE *checked_stream(int fd)
{
    cookie_io_functions_t io = {.write = out_write};
    FILE *f = fopencookie((void *)(intptr_t)fd, "w", io);
    if (f)
        setvbuf(f, NULL, _IONBF, 0);
    return f;
}

__attribute__((constructor)) static void shim_start(void)
{
    const char *store = getenv("CF_SYNC_SHIM_STORE");
    const char *log = getenv("CF_SYNC_SHIM_LOG");
    if (!store || !store[0] || strlen(store) + 16 > PATH_CAP || !log || !log[0])
        return;
    snprintf(shim.path[K_DB], PATH_CAP, "%s", store);
    snprintf(shim.path[K_WAL], PATH_CAP, "%s-wal", store);
    snprintf(shim.path[K_JOURNAL], PATH_CAP, "%s-journal", store);
    snprintf(shim.path[K_DIR], PATH_CAP, "%s", store);
    char *slash = strrchr(shim.path[K_DIR], '/');
    if (!slash || slash == shim.path[K_DIR])
        return; /* the test passes an absolute path in a folder of its own */
    *slash = '\0';
    shim.store_name = strrchr(shim.path[K_DB], '/') + 1;
    const char *image = getenv("CF_SYNC_SHIM_IMAGE");
    if (image && strlen(image) < PATH_CAP)
        snprintf(shim.image, PATH_CAP, "%s", image);
    shim.log_fd = raw_open(log, O_WRONLY | O_CREAT | O_APPEND);
    if (shim.log_fd < 0)
        return;
    FILE *out = checked_stream(1), *err = checked_stream(2);
    if (out)
        stdout = out;
    if (err)
        stderr = err;
    shim.active = true;
}

__attribute__((destructor)) static void shim_stop(void)
{
    if (!shim.active)
        return;
    char line[256];
    snprintf(line, sizeof line, "summary db %lu/%lu wal %lu/%lu journal %lu/%lu dir %lu\n",
             shim.file[K_DB].writes, shim.file[K_DB].syncs, shim.file[K_WAL].writes,
             shim.file[K_WAL].syncs, shim.file[K_JOURNAL].writes, shim.file[K_JOURNAL].syncs,
             shim.file[K_DIR].syncs);
    log_line(line);
}

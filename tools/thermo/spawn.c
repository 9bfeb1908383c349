/* spawn.c - see spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int tool_on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    for (;;) {
        /* An empty PATH entry means the current folder. */
        size_t len = strcspn(path, ":");
        char full[4096];
        int w = snprintf(full, sizeof full, "%.*s/%s", (int)(len ? len : 1), len ? path : ".",
                         name);
        if (w > 0 && (size_t)w < sizeof full && access(full, X_OK) == 0) return 1;
        if (path[len] == '\0') break;
        path += len + 1;
    }
    return 0;
}

int tool_run(const char *cwd, char *const argv[], int quiet)
{
    /* Our buffered output first, or the child's would overtake it. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (quiet) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, STDOUT_FILENO);
        }
        if (cwd && chdir(cwd) != 0) _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

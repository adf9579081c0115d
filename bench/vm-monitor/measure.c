/* measure.c - run one program by argv and report what it cost.
 *
 *   measure [-o OUTFILE] [-p DAEMON_PID] -- PROGRAM [ARG...]
 *
 * Forks, execs PROGRAM (a path; no PATH search, no shell) with ARGs and this process's own
 * environment (so run measure itself under "env -i ..." to give the program a clean one), stdin
 * from /dev/null, stdout and stderr appended to OUTFILE (default /dev/null), and waits for it.
 * Prints one line to stdout:
 *
 *   wall_ns=N user_us=N sys_us=N exit=N [daemon_ticks=N]
 *
 *   wall_ns   CLOCK_MONOTONIC from just before fork() to just after wait4() returned
 *   user_us, sys_us
 *             CPU time of the program and of every descendant it waited for: the delta of
 *             getrusage(RUSAGE_CHILDREN) around the run (getrusage(2): "all descendants of the
 *             calling process that have terminated and been waited for"). The kernel folds a
 *             reaped grandchild's time into its parent when the parent waits for it, so a
 *             shell's pipelines and command substitutions are included. Not included: processes
 *             nobody waited for (daemonized or reparented ones), and other processes' work on the
 *             program's behalf (e.g. libvirtd answering it; see daemon_ticks).
 *   exit      the program's exit status, or 128+signal if it was killed by a signal
 *   daemon_ticks (with -p)
 *             utime+stime of process DAEMON_PID (all its threads; proc(5) /proc/PID/stat fields
 *             14 and 15) after minus before, in clock ticks (sysconf(_SC_CLK_TCK)). Coarse: sum
 *             it over many runs.
 *
 * Exit status: 0 if the program ran and was measured (whatever its own exit status), 2 if
 * measure itself failed (usage, fork, exec, wait); the reason goes to stderr.
 *
 * Build: cc -O2 -o measure measure.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long tv_us(struct timeval tv) { return (long long)tv.tv_sec * 1000000LL + tv.tv_usec; }

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* utime+stime of pid in clock ticks, -1 on error. The command name (field 2) may contain spaces
 * and parentheses, so parse from the last ')'. */
static long long proc_ticks(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* after ")": field 3 (state) ... field 14 utime, field 15 stime */
    unsigned long long ut = 0, st = 0;
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-o OUTFILE] [-p DAEMON_PID] -- PROGRAM [ARG...]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    const char *out = "/dev/null";
    pid_t daemon = 0;
    int opt;
    while ((opt = getopt(argc, argv, "+o:p:")) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'p': daemon = (pid_t)atoi(optarg); if (daemon <= 0) return usage(argv[0]); break;
        default: return usage(argv[0]);
        }
    }
    if (optind >= argc || !strchr(argv[optind], '/'))
        return usage(argv[0]);
    char **cmd = argv + optind;

    /* open the redirections before the clock starts; the child only dup2()s them */
    int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out_fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (in_fd < 0 || out_fd < 0) {
        fprintf(stderr, "measure: open %s: %s\n", in_fd < 0 ? "/dev/null" : out, strerror(errno));
        return 2;
    }
    /* the exec error is reported through this pipe (closed by a successful exec) */
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) < 0) {
        perror("measure: pipe2");
        return 2;
    }
    fflush(NULL);

    struct rusage before, after, own;
    if (getrusage(RUSAGE_CHILDREN, &before) < 0) {
        perror("measure: getrusage");
        return 2;
    }
    long long d0 = daemon ? proc_ticks(daemon) : 0;
    long long t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("measure: fork");
        return 2;
    }
    if (pid == 0) {
        close(errpipe[0]);
        if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
            _exit(127);
        execve(cmd[0], cmd, environ);
        int e = errno;
        ssize_t w = write(errpipe[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(errpipe[1]);

    int status;
    pid_t r;
    while ((r = wait4(pid, &status, 0, &own)) < 0 && errno == EINTR)
        ;
    long long t1 = now_ns();
    long long d1 = daemon ? proc_ticks(daemon) : 0;
    if (r < 0) {
        perror("measure: wait4");
        return 2;
    }
    if (getrusage(RUSAGE_CHILDREN, &after) < 0) {
        perror("measure: getrusage");
        return 2;
    }
    int exec_errno = 0;
    if (read(errpipe[0], &exec_errno, sizeof exec_errno) == (ssize_t)sizeof exec_errno) {
        fprintf(stderr, "measure: exec %s: %s\n", cmd[0], strerror(exec_errno));
        return 2;
    }

    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("wall_ns=%lld user_us=%lld sys_us=%lld exit=%d", t1 - t0,
           tv_us(after.ru_utime) - tv_us(before.ru_utime), tv_us(after.ru_stime) - tv_us(before.ru_stime),
           code);
    if (daemon) {
        if (d0 < 0 || d1 < 0) {
            fprintf(stderr, "measure: cannot read /proc/%d/stat\n", (int)daemon);
            return 2;
        }
        printf(" daemon_ticks=%lld", d1 - d0);
    }
    printf("\n");
    return fflush(stdout) == 0 ? 0 : 2;
}

/* floor.c - the floor of a VM monitor: the least work any libvirt-based monitor must do.
 *
 *   floor URI DOMAIN
 *
 * Connects to URI (read-only), looks DOMAIN up by name and gets its state. Prints nothing on
 * success. Exit status (OCF style):
 *   0  the domain is active (running, blocked, paused, being shut down, pm-suspended)
 *   7  the domain is not active (shut off, crashed, no state) or not defined on this host
 *   1  any other error (connection, arguments); libvirt's error is printed to stderr
 *
 * Build: cc -O2 -o floor floor.c $(pkg-config --cflags --libs libvirt)
 */
#include <stdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

enum { EXIT_RUNNING = 0, EXIT_ERROR = 1, EXIT_NOT_RUNNING = 7 };

/* keep libvirt from printing every error; report only the ones that decide the exit status */
static void quiet(void *opaque, virErrorPtr err) { (void)opaque; (void)err; }

static int fail(const char *what)
{
    virErrorPtr e = virGetLastError();
    fprintf(stderr, "floor: %s: %s\n", what, e && e->message ? e->message : "unknown error");
    return EXIT_ERROR;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s URI DOMAIN\n", argv[0]);
        return EXIT_ERROR;
    }
    virSetErrorFunc(NULL, quiet);

    virConnectPtr conn = virConnectOpenReadOnly(argv[1]);
    if (!conn)
        return fail("connect");

    int rc;
    virDomainPtr dom = virDomainLookupByName(conn, argv[2]);
    if (!dom) {
        virErrorPtr e = virGetLastError();
        rc = (e && e->code == VIR_ERR_NO_DOMAIN) ? EXIT_NOT_RUNNING : fail("lookup");
    } else {
        int state = VIR_DOMAIN_NOSTATE, reason = 0;
        if (virDomainGetState(dom, &state, &reason, 0) < 0) {
            rc = fail("get state");
        } else {
            switch (state) {
            case VIR_DOMAIN_RUNNING:
            case VIR_DOMAIN_BLOCKED:
            case VIR_DOMAIN_PAUSED:
            case VIR_DOMAIN_SHUTDOWN:
            case VIR_DOMAIN_PMSUSPENDED:
                rc = EXIT_RUNNING;
                break;
            default:
                rc = EXIT_NOT_RUNNING;
                break;
            }
        }
        virDomainFree(dom);
    }
    virConnectClose(conn);
    return rc;
}

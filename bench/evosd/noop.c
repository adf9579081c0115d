/* noop.c - a program linked to libvirt that returns at once: what loading libvirt's client
 * library and its dependencies costs a process, before any libvirt call (bench/evosd).
 *
 *   noop
 *
 * Exit status 0. The call below is never made (there is always one argument, the program's
 * name), but it keeps the link to libvirt, as every agent has it.
 *
 * Build: cc -O2 -o noop noop.c $(pkg-config --cflags --libs libvirt)
 */
#include <libvirt/libvirt.h>

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 100) return virGetVersion(0, 0, 0) < 0;
    return 0;
}

/* One line to a test proxy's control port on 127.0.0.1 (the fault proxy and
 * the R2 rules checker both take commands this way); the whole answer comes
 * back in a static buffer, "" when the proxy cannot be reached. */
#ifndef R2_TEST_CONTROL_H
#define R2_TEST_CONTROL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *control_line(int port, const char *line) {
    static char answer[8192];
    answer[0] = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return answer;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        char out[512];
        int n = snprintf(out, sizeof out, "%s\n", line);
        if (n > 0 && (size_t)n < sizeof out && write(fd, out, (size_t)n) == n) {
            size_t got = 0;
            for (ssize_t r; got < sizeof answer - 1 && (r = read(fd, answer + got, sizeof answer - 1 - got)) > 0;) got += (size_t)r;
            answer[got] = 0;
        }
    }
    close(fd);
    return answer;
}

#endif

/* mqpub: the benchmarks' load generator. Publishes every line of a file
 * ("topic<TAB>payload") at QoS 1 through libmosquitto, with a window of messages in
 * flight, and prints the seconds from the first publish to the last PUBACK.
 *
 * A C publisher because a Python one (paho) tops out near 5,000 messages/s: a load
 * generator slower than what it measures measures itself. bench_pipeline.py builds
 * this with gcc and runs it alone first, to show that it is faster than the gateway.
 *
 *   mqpub HOST PORT FILE [IN_FLIGHT]
 *   mqpub HOST PORT --fleet DEVICES INTERVAL_S SECONDS TOPIC_FORMAT PAYLOAD_FORMAT
 *
 * --fleet paces a city: DEVICES devices, each one message every INTERVAL_S, for
 * SECONDS; TOPIC_FORMAT has one %s (the device), PAYLOAD_FORMAT a %ld (the sequence
 * number) then a %lld (the time in ms), both written by the bench from the wire
 * contract. It prints "acked N" every second and "N SECONDS" at the end.
 */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long acked;

static void on_publish(struct mosquitto *mosq, void *data, int mid) {
    (void)mosq; (void)data; (void)mid;
    acked++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, long *size) {
    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); exit(2); }
    fseek(file, 0, SEEK_END);
    *size = ftell(file);
    rewind(file);
    char *text = malloc(*size + 1);
    if (!text || fread(text, 1, *size, file) != (size_t)*size) { perror(path); exit(2); }
    text[*size] = '\0';
    fclose(file);
    return text;
}

static double epoch_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fleet(struct mosquitto *mosq, char **argv) {
    long devices = atol(argv[4]);
    double interval = atof(argv[5]), seconds = atof(argv[6]);
    const char *topic_format = argv[7], *payload_format = argv[8];
    char topic[256], device[32], payload[1024];
    long sent = 0, total = (long)(devices * seconds / interval);
    double started = now_s(), next_report = started + 1;
    while (sent < total) {
        double due = started + sent * interval / devices;
        double now = now_s();
        if (now >= next_report) {
            printf("acked %ld\n", acked);
            fflush(stdout);
            next_report += 1;
        }
        if (now < due) {
            struct timespec pause = {0, 1000000};
            nanosleep(&pause, NULL);
            continue;
        }
        snprintf(device, sizeof device, "bench-%06ld", sent % devices);
        snprintf(topic, sizeof topic, topic_format, device);
        int size = snprintf(payload, sizeof payload, payload_format, sent / devices + 1,
                            (long long)epoch_ms());
        if (mosquitto_publish(mosq, NULL, topic, size, payload, 1, false) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mqpub: publish failed\n");
            return 1;
        }
        sent++;
    }
    while (acked < sent) {
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
    printf("%ld %.6f\n", sent, now_s() - started);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 9 && strcmp(argv[3], "--fleet") == 0) {
        mosquitto_lib_init();
        struct mosquitto *mosq = mosquitto_new("bench-mqpub-fleet", true, NULL);
        mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, 1000);
        mosquitto_publish_callback_set(mosq, on_publish);
        if (mosquitto_connect(mosq, argv[1], atoi(argv[2]), 60) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mqpub: cannot connect to %s:%s\n", argv[1], argv[2]);
            return 1;
        }
        mosquitto_loop_start(mosq);
        int rc = fleet(mosq, argv);
        mosquitto_disconnect(mosq);
        mosquitto_loop_stop(mosq, false);
        return rc;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: mqpub HOST PORT FILE [IN_FLIGHT]\n");
        return 2;
    }
    int in_flight = argc > 4 ? atoi(argv[4]) : 20;
    long size;
    char *text = read_file(argv[3], &size);

    mosquitto_lib_init();
    struct mosquitto *mosq = mosquitto_new("bench-mqpub", true, NULL);
    mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, in_flight);
    mosquitto_publish_callback_set(mosq, on_publish);
    if (mosquitto_connect(mosq, argv[1], atoi(argv[2]), 60) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mqpub: cannot connect to %s:%s\n", argv[1], argv[2]);
        return 1;
    }
    mosquitto_loop_start(mosq);

    long sent = 0;
    double started = now_s();
    for (char *line = text; line < text + size;) {
        char *end = strchr(line, '\n');
        if (!end) end = text + size;
        char *tab = memchr(line, '\t', end - line);
        if (tab) {
            *tab = '\0';
            while (sent - acked >= in_flight * 4) {  /* libmosquitto queues the rest */
                struct timespec pause = {0, 100000};
                nanosleep(&pause, NULL);
            }
            int rc = mosquitto_publish(mosq, NULL, line, (int)(end - tab - 1), tab + 1, 1, false);
            if (rc != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "mqpub: publish failed: %s\n", mosquitto_strerror(rc));
                return 1;
            }
            sent++;
        }
        line = end + 1;
    }
    while (acked < sent) {
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
    printf("%ld %.6f\n", sent, now_s() - started);
    mosquitto_disconnect(mosq);
    mosquitto_loop_stop(mosq, false);
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    return 0;
}

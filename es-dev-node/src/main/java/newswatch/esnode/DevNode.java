package newswatch.esnode;

import newswatch.esnode.english.EnglishAnalysisPlugin;
import org.elasticsearch.cluster.ClusterName;
import org.elasticsearch.cluster.routing.allocation.DiskThresholdSettings;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.transport.TransportAddress;
import org.elasticsearch.discovery.DiscoveryModule;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.indices.breaker.HierarchyCircuitBreakerService;
import org.elasticsearch.node.ClasspathNode;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts an Elasticsearch node in this JVM, HTTP and transport over Netty4, and runs until SIGTERM/SIGINT.
 *
 * <pre>java -cp 'target/es-dev-node.jar:target/lib/*' newswatch.esnode.DevNode --data-dir DIR [--port 9200] [--host 127.0.0.1]</pre>
 *
 * By default the node is a cluster of its own (single-node discovery). With {@code --seed-hosts} it joins or forms a
 * cluster with other nodes: discovery over their transport ports, and {@code --initial-master-nodes} on the very
 * first start of a new cluster only (Elasticsearch ignores it, with a warning, once the cluster has formed).
 *
 * Exit codes: 0 clean stop, 2 bad arguments, 3 port already taken, 1 failed to start.
 */
public final class DevNode {
    static final int EXIT_USAGE = 2;
    static final int EXIT_PORT_TAKEN = 3;

    /** name (as `GET _nodes/plugins` lists it) -> plugin class; insertion order is load order. */
    static final Map<String, Class<? extends Plugin>> PLUGINS = new LinkedHashMap<>();
    static {
        PLUGINS.put("transport-netty4", Netty4Plugin.class);
        PLUGINS.put("newswatch-rest-root", RootPlugin.class);
        PLUGINS.put("newswatch-analysis-english", EnglishAnalysisPlugin.class);
    }

    private DevNode() {}

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("es-dev-node: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(EXIT_USAGE);
            return;
        }
        for (int port : options.transportPort > 0 ? new int[] { options.port, options.transportPort } : new int[] { options.port }) {
            String taken = portTaken(options.host, port);
            if (taken != null) {
                System.err.println(
                    "es-dev-node: cannot start: port " + port + " on " + options.host + " is already in use (" + taken
                        + "). Stop whatever listens there, or choose another port."
                );
                System.exit(EXIT_PORT_TAKEN);
                return;
            }
        }
        Path home = options.dataDir.toAbsolutePath();
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Files.createDirectories(home.resolve("snapshots"));
        setUpNativeLibraries(home);

        long started = System.nanoTime();
        // ES logs through its own facade; point it at log4j, configured by log4j2.properties on the classpath.
        LogConfigurator.configureESLogging();
        LogConfigurator.setNodeName(options.nodeName);
        Node node;
        try {
            node = new ClasspathNode(settings(options, home), PLUGINS);
            node.start();
        } catch (Exception e) {
            System.err.println("es-dev-node: failed to start: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }
        TransportAddress http = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress();
        System.out.printf(
            "es-dev-node: started Elasticsearch %s at http://%s in %d ms (data: %s, pid %d)%n",
            org.elasticsearch.Build.current().qualifiedVersion(),
            http,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
            home,
            ProcessHandle.current().pid()
        );
        System.out.flush();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("es-dev-node: stopping");
            try {
                node.prepareForClose();
                node.close();
                if (node.awaitClose(30, TimeUnit.SECONDS) == false) {
                    System.err.println("es-dev-node: node did not close within 30s");
                }
                System.out.println("es-dev-node: stopped");
            } catch (IOException | InterruptedException e) {
                System.err.println("es-dev-node: error while stopping: " + e);
            } finally {
                stopped.countDown();
                System.out.flush();
            }
        }, "es-dev-node-shutdown"));
        if (options.parentPid > 0) {
            watchParent(options.parentPid);
        }
        stopped.await();
    }

    /** Stops the node (through the shutdown hook) once the process that owns it is gone, e.g. a killed test run. */
    static void watchParent(long parentPid) {
        Thread watcher = new Thread(() -> {
            while (ProcessHandle.of(parentPid).map(ProcessHandle::isAlive).orElse(false)) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
            System.out.println("es-dev-node: owner process " + parentPid + " is gone");
            System.exit(0);
        }, "es-dev-node-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    static Settings settings(Options options, Path home) {
        Settings.Builder builder = Settings.builder()
            .put(ClusterName.CLUSTER_NAME_SETTING.getKey(), options.clusterName)
            .put(Node.NODE_NAME_SETTING.getKey(), options.nodeName)
            .put(Environment.PATH_HOME_SETTING.getKey(), home.toString())
            .putList(Environment.PATH_DATA_SETTING.getKey(), home.resolve("data").toString())
            .put(Environment.PATH_LOGS_SETTING.getKey(), home.resolve("logs").toString())
            .putList(Environment.PATH_REPO_SETTING.getKey(), home.resolve("snapshots").toString())
            .put("network.host", options.host)
            .put("http.port", options.port)
            // the heap is small; the real-memory breaker would trip on ordinary GC pressure
            .put(HierarchyCircuitBreakerService.USE_REAL_MEMORY_USAGE_SETTING.getKey(), false)
            // a nearly full developer disk must not turn indices read-only
            .put(DiskThresholdSettings.CLUSTER_ROUTING_ALLOCATION_DISK_THRESHOLD_ENABLED_SETTING.getKey(), false);
        if (options.transportPort > 0) {
            builder.put("transport.port", options.transportPort);
        }
        if (options.seedHosts.isEmpty()) {
            builder.put(DiscoveryModule.DISCOVERY_TYPE_SETTING.getKey(), DiscoveryModule.SINGLE_NODE_DISCOVERY_TYPE);
        } else {
            builder.putList("discovery.seed_hosts", options.seedHosts);
            if (options.initialMasterNodes.isEmpty() == false) {
                builder.putList("cluster.initial_master_nodes", options.initialMasterNodes);
            }
        }
        return builder.build();
    }

    /** Where the system's libzstd usually is (Debian/Ubuntu multiarch, then RPM-style, then plain). */
    static final List<String> ZSTD_CANDIDATES = List.of(
        "/usr/lib/x86_64-linux-gnu/libzstd.so.1",
        "/usr/lib/aarch64-linux-gnu/libzstd.so.1",
        "/usr/lib64/libzstd.so.1",
        "/usr/lib/libzstd.so.1",
        "/usr/local/lib/libzstd.so.1"
    );

    /**
     * The distribution ships its native libraries (zstd, vec) in lib/platform; Maven Central does not. Without zstd,
     * index.codec=best_compression (and logsdb, which defaults to it) fails at the first flush, so point Elasticsearch
     * at the system's libzstd. Its own SIMD vector library has no substitute: the JDK vector code is used instead.
     */
    static void setUpNativeLibraries(Path home) throws IOException {
        if (System.getProperty("es.nativelibs.path") != null) {
            return;
        }
        System.setProperty("org.elasticsearch.nativeaccess.enableVectorLibrary", "false");
        Path zstd = ZSTD_CANDIDATES.stream().map(Path::of).filter(Files::isReadable).findFirst().orElse(null);
        if (zstd == null) {
            System.err.println(
                "es-dev-node: no system libzstd found (" + ZSTD_CANDIDATES + "): native access is disabled, "
                    + "so index.codec=best_compression will fail; install libzstd1"
            );
            return;
        }
        Path dir = home.resolve("native");
        Files.createDirectories(dir);
        Path link = dir.resolve(System.mapLibraryName("zstd"));
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, zstd);
        System.setProperty("es.nativelibs.path", dir.toString());
    }

    /** Returns why host:port cannot be bound, or null when it is free. */
    static String portTaken(String host, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            // as Elasticsearch binds: connections of a just-stopped node in TIME_WAIT must not count as "taken"
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
            return null;
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    record Options(
        Path dataDir,
        String host,
        int port,
        String clusterName,
        String nodeName,
        long parentPid,
        int transportPort,
        List<String> seedHosts,
        List<String> initialMasterNodes
    ) {
        static final String USAGE = "usage: DevNode --data-dir DIR [--host 127.0.0.1] [--port 9200] [--cluster-name newswatch-dev]"
            + " [--node-name newswatch-dev-node] [--parent-pid PID (stop when that process exits)]"
            + " [--transport-port N] [--seed-hosts HOST:PORT,... (join a cluster; default: a single-node cluster)]"
            + " [--initial-master-nodes NAME,... (first start of a new cluster only)]";

        static Options parse(String[] args) {
            Path dataDir = null;
            String host = "127.0.0.1";
            int port = 9200;
            String clusterName = "newswatch-dev";
            String nodeName = "newswatch-dev-node";
            long parentPid = 0;
            int transportPort = 0;
            List<String> seedHosts = List.of();
            List<String> initialMasterNodes = List.of();
            for (int i = 0; i < args.length; i++) {
                String flag = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value for " + flag);
                }
                String value = args[++i];
                switch (flag) {
                    case "--data-dir" -> dataDir = Path.of(value);
                    case "--host" -> host = value;
                    case "--port" -> port = port(flag, value, 0);
                    case "--transport-port" -> transportPort = port(flag, value, 1);
                    case "--cluster-name" -> clusterName = value;
                    case "--node-name" -> nodeName = value;
                    case "--seed-hosts" -> seedHosts = list(value);
                    case "--initial-master-nodes" -> initialMasterNodes = list(value);
                    case "--parent-pid" -> {
                        try {
                            parentPid = Long.parseLong(value);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--parent-pid must be a number, got " + value);
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown option " + flag);
                }
            }
            if (dataDir == null) {
                throw new IllegalArgumentException("--data-dir is required");
            }
            if (seedHosts.isEmpty() && initialMasterNodes.isEmpty() == false) {
                throw new IllegalArgumentException("--initial-master-nodes needs --seed-hosts (a single node elects itself)");
            }
            return new Options(dataDir, host, port, clusterName, nodeName, parentPid, transportPort, seedHosts, initialMasterNodes);
        }

        private static int port(String flag, String value, int min) {
            int port;
            try {
                port = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + " must be a number, got " + value);
            }
            if (port < min || port > 65535) {
                throw new IllegalArgumentException(
                    flag + " must be " + min + "-65535" + (min == 0 ? " (0: any free port)" : "") + ", got " + value
                );
            }
            return port;
        }

        private static List<String> list(String value) {
            return Arrays.stream(value.split(",")).map(String::trim).filter(v -> v.isEmpty() == false).toList();
        }
    }
}

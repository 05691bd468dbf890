// Small admin helper for scripts/kafka-local and the tests, run with the
// JDK's single-file source launcher against the cached broker jars:
//   java -cp "$JARS/*" tests/kafka/KafkaAdmin.java BOOTSTRAP create NAME:PARTITIONS...
//   java -cp "$JARS/*" tests/kafka/KafkaAdmin.java BOOTSTRAP delete NAME...
//   ... BOOTSTRAP scram USER           (SCRAM-SHA-256; the password on stdin)
//   ... BOOTSTRAP allow USER OPERATION topic|group NAME...
// One JVM creates every topic, which is much faster than one
// kafka-topics call per topic. Exits non-zero on any failure.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAdmin {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: KafkaAdmin BOOTSTRAP create NAME:PARTS... | delete NAME..."
                    + " | scram USER | allow USER OPERATION topic|group NAME...");
            System.exit(2);
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        try (Admin admin = Admin.create(p)) {
            List<String> names = new ArrayList<>();
            if (args[1].equals("create")) {
                List<NewTopic> topics = new ArrayList<>();
                for (int i = 2; i < args.length; i++) {
                    String[] np = args[i].split(":");
                    int parts = np.length > 1 ? Integer.parseInt(np[1]) : 1;
                    topics.add(new NewTopic(np[0], parts, (short) 1)
                            .configs(Map.of("min.insync.replicas", "1")));
                }
                admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
            } else if (args[1].equals("delete")) {
                for (int i = 2; i < args.length; i++)
                    names.add(args[i]);
                admin.deleteTopics(names).all().get(60, TimeUnit.SECONDS);
            } else if (args[1].equals("scram")) {
                // The password comes on stdin, never on a command line.
                String pw = new BufferedReader(new InputStreamReader(System.in,
                        StandardCharsets.UTF_8)).readLine();
                if (pw == null || pw.isEmpty()) {
                    System.err.println("scram: no password on stdin");
                    System.exit(2);
                }
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(args[2],
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), pw)))
                        .all().get(60, TimeUnit.SECONDS);
            } else if (args[1].equals("allow") && args.length >= 6) {
                AclOperation op = AclOperation.fromString(args[3]);
                ResourceType type = ResourceType.fromString(args[4]);
                if (op == AclOperation.UNKNOWN || type == ResourceType.UNKNOWN) {
                    System.err.println("allow: unknown operation or resource type");
                    System.exit(2);
                }
                List<AclBinding> acls = new ArrayList<>();
                for (int i = 5; i < args.length; i++)
                    acls.add(new AclBinding(
                            new ResourcePattern(type, args[i], PatternType.LITERAL),
                            new AccessControlEntry("User:" + args[2], "*", op,
                                    AclPermissionType.ALLOW)));
                admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
            } else {
                System.err.println("unknown command " + args[1]);
                System.exit(2);
            }
        }
    }
}

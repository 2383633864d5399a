package dev.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.paddock.sandbox.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes decodes strictly into the Kubernetes API types (tools/k8s-check, offline), and
 * the host container's arguments are ones paddock serve accepts.
 */
class KubernetesManifestsTest {
  private static final Path ROOT = dev.paddock.sandbox.JailRequirement.projectRoot();
  private static final Path MANIFESTS = ROOT.resolve("deploy/kubernetes");

  @Test
  void everyManifestDecodesStrictlyIntoTheKubernetesApiTypes() throws Exception {
    Path check = ROOT.resolve(".paddock/tools/k8s-check/k8s-check");
    // scripts/setup builds it; a machine without it is not set up (never a reason to skip).
    assertThat(check).as("tools/k8s-check (run scripts/setup)").isExecutable();
    List<String> command = new ArrayList<>(List.of(check.toString()));
    try (var files = Files.list(MANIFESTS)) {
      files.filter(f -> f.toString().endsWith(".yaml")).sorted().forEach(f -> command.add(f.toString()));
    }
    assertThat(command).hasSizeGreaterThan(1);
    ToolRun checked = ToolRun.run(null, java.util.Map.of(), java.time.Duration.ofSeconds(60), command);
    assertThat(checked.exit()).as(checked.output()).isZero();
    assertThat(checked.output()).contains("document 6: ok").doesNotContain("error");
  }

  @Test
  void theHostContainersArgumentsAreOnesPaddockServeAccepts() throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    JsonNode deployment = null;
    try (var docs = yaml.readerFor(JsonNode.class).readValues(MANIFESTS.resolve("paddock.yaml").toFile())) {
      while (docs.hasNext()) {
        JsonNode doc = (JsonNode) docs.next();
        if (doc != null && "Deployment".equals(doc.path("kind").asText())) {
          deployment = doc;
        }
      }
    }
    assertThat(deployment).isNotNull();
    JsonNode container = deployment.path("spec").path("template").path("spec").path("containers").get(0);
    List<String> args = new ArrayList<>();
    container.path("args").forEach(a -> args.add(a.asText()));
    assertThat(args).first().isEqualTo("serve");
    // Parsing only: an option serve does not have, or a bad value, throws.
    dev.paddock.runtime.cli.PaddockCli.commandLine().parseArgs(args.toArray(String[]::new));
    assertThat(container.path("readinessProbe").path("grpc").path("port").asInt()).isEqualTo(50051);
    assertThat(deployment.path("spec").path("template").path("metadata").path("annotations").path("prometheus.io/port")
        .asText()).isEqualTo("9464");
  }
}

package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.Browser;
import dev.paddock.ipc.v1.CloseBrowserRequest;
import dev.paddock.ipc.v1.CreateBrowserRequest;
import dev.paddock.ipc.v1.ListBrowsersRequest;
import dev.paddock.ipc.v1.NavigateRequest;
import dev.paddock.ipc.v1.NavigateResponse;
import dev.paddock.ipc.v1.ScreenshotRequest;
import dev.paddock.ipc.v1.ScreenshotResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code paddock browser}: a session's browsers (BrowserService). */
@Command(name = "browser", mixinStandardHelpOptions = true,
    description = "A session's browsers: each one in a jail of its own, reaching only what the session's egress allows.",
    subcommands = {BrowserCommand.Create.class, BrowserCommand.ListCommand.class, BrowserCommand.Close.class,
        BrowserCommand.Screenshot.class})
final class BrowserCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** {@code paddock browser create}. */
  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Starts a browser for a session and prints its id (with --json: the Browser).")
  static final class Create extends ClientCommand {
    @Option(names = "--session", required = true, paramLabel = "SESSION", description = "The session.")
    String sessionId;

    @Option(names = "--provider", defaultValue = "", paramLabel = "NAME",
        description = "A provider to pin (failover still goes on to the others). Default: the operator's order.")
    String provider;

    @Override
    int run(Client client) {
      Browser b = client.browsers().createBrowser(CreateBrowserRequest.newBuilder().setSessionId(sessionId).setProvider(provider)
          .build());
      if (client.out().json()) {
        client.out().json(b);
      } else {
        client.out().line(b.getBrowserId());
        if (!b.getDevtoolsUrl().isEmpty()) { // shown only now: the host keeps its token hashed
          client.out().note("DevTools endpoint (Playwright connectOverCDP; holds the browser's token): " + b.getDevtoolsUrl());
        }
      }
      return 0;
    }
  }

  /** {@code paddock browser list}. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists a session's browsers.")
  static final class ListCommand extends ClientCommand {
    @Option(names = "--session", required = true, paramLabel = "SESSION", description = "The session.")
    String sessionId;

    @Override
    int run(Client client) {
      var browsers = client.browsers().listBrowsers(ListBrowsersRequest.newBuilder().setSessionId(sessionId).build());
      if (client.out().json()) {
        client.out().json(browsers);
        return 0;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Browser b : browsers.getBrowsersList()) {
        rows.add(List.of(b.getBrowserId(), b.getState().name().replace("BROWSER_STATE_", ""), b.getProvider(), b.getCurrentUrl()));
      }
      client.out().table(List.of("BROWSER", "STATE", "PROVIDER", "URL"), rows);
      return 0;
    }
  }

  /** {@code paddock browser close}. */
  @Command(name = "close", mixinStandardHelpOptions = true, description = "Closes a browser and wipes its profile.")
  static final class Close extends ClientCommand {
    @Option(names = "--session", required = true, paramLabel = "SESSION", description = "The session.")
    String sessionId;

    @Parameters(paramLabel = "BROWSER", description = "The browser's id.")
    String browserId;

    @Override
    int run(Client client) {
      client.browsers().closeBrowser(CloseBrowserRequest.newBuilder().setSessionId(sessionId).setBrowserId(browserId).build());
      return 0;
    }
  }

  /** {@code paddock browser screenshot}. */
  @Command(name = "screenshot", mixinStandardHelpOptions = true,
      description = "Writes a PNG of what a browser shows, after loading --url when given.")
  static final class Screenshot extends ClientCommand {
    @Option(names = "--session", required = true, paramLabel = "SESSION", description = "The session.")
    String sessionId;

    @Option(names = "--url", paramLabel = "URL", description = "Load this http(s) URL first.")
    String url;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "Where the PNG goes.")
    Path output;

    @Parameters(paramLabel = "BROWSER", description = "The browser's id.")
    String browserId;

    @Override
    int run(Client client) {
      if (url != null) {
        NavigateResponse n = client.browsers().navigate(NavigateRequest.newBuilder().setSessionId(sessionId)
            .setBrowserId(browserId).setUrl(url).build());
        if (!n.getErrorText().isEmpty()) {
          client.out().note("the page did not load: " + n.getErrorText());
        }
      }
      ScreenshotResponse shot = client.browsers().screenshot(ScreenshotRequest.newBuilder().setSessionId(sessionId)
          .setBrowserId(browserId).build());
      try {
        Files.write(output, shot.getImage().toByteArray());
      } catch (java.io.IOException e) {
        return client.out().fail("cannot write " + output + ": " + e.getMessage());
      }
      client.out().note("wrote " + output + " (" + shot.getWidth() + "x" + shot.getHeight() + " PNG, " + shot.getImage().size()
          + " bytes)");
      return 0;
    }
  }
}

package dev.paddock.runtime.browser;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.paddock.browser.cdp.CdpConnection;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each browser's DevTools endpoint for stock clients, in the convention browser services use: an
 * {@code http} URL whose {@code /json/version} names a {@code ws} URL, both carrying the browser's
 * own token in their path ({@code /devtools/<browser id>/<token>}), so Playwright's
 * {@code connectOverCDP} and Puppeteer's {@code connect} work unchanged. The token is checked
 * against the browser's (only its SHA-256 is kept); a wrong one, another browser's, or a closed
 * browser's is refused before any upgrade. A client's socket closes with the reason when its
 * browser closes or is lost (code 4001 and "BROWSER_CLOSED: ...").
 */
public final class DevToolsEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DevToolsEndpoint.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Largest request or WebSocket message a client may send (CDP commands are small). */
  private static final int MAX_MESSAGE_BYTES = 16 << 20;
  /** Close code of a socket whose browser closed or was lost (4000-4999: the application's own). */
  static final int BROWSER_CLOSED = 4001;

  /** Who a path's browser id and token open, if anyone. */
  @FunctionalInterface
  public interface Resolver {
    /** The browser's DevTools connection when {@code token} is its, and it is open; else empty. */
    Optional<Attach> resolve(String browserId, String token);
  }

  /** A browser a client may attach to, and where its attachment is recorded. */
  public record Attach(CdpConnection connection, Runnable recordAttached) {}

  private final EventLoopGroup group;
  private final Channel server;
  private final Resolver resolver;
  private final String host;

  /** Listens on {@code listen}; fails when it cannot (the address is taken, or not this machine's). */
  public DevToolsEndpoint(InetSocketAddress listen, Resolver resolver) throws java.io.IOException {
    this.resolver = resolver;
    this.group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    var bound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), new HttpHandler());
          }
        }).bind(listen).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
      throw new java.io.IOException("the browsers' DevTools endpoint cannot listen on " + listen + ": "
          + bound.cause().getMessage(), bound.cause());
    }
    this.server = bound.channel();
    InetSocketAddress at = (InetSocketAddress) server.localAddress();
    String address = at.getAddress().isAnyLocalAddress() ? "127.0.0.1" : at.getAddress().getHostAddress();
    this.host = (address.contains(":") ? "[" + address + "]" : address) + ":" + at.getPort();
  }

  /** The endpoint's http URL for a browser: give it to connectOverCDP or to Puppeteer's browserURL. */
  public String httpUrl(String browserId, String token) {
    return "http://" + host + "/devtools/" + browserId + "/" + token;
  }

  /** The endpoint's ws URL for a browser: give it to Puppeteer's browserWSEndpoint. */
  public String wsUrl(String browserId, String token) {
    return "ws://" + host + "/devtools/" + browserId + "/" + token;
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** HTTP: /json/version, or the upgrade to the WebSocket. */
  private final class HttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String path = request.uri().split("\\?", 2)[0];
      String[] parts = path.split("/");
      // "", "devtools", id, token, ["json", "version", ""] or nothing more
      if (parts.length < 4 || !parts[1].equals("devtools") || request.method() != HttpMethod.GET) {
        reply(ctx, request, HttpResponseStatus.NOT_FOUND, Map.of("error", "not a DevTools endpoint of this host"));
        return;
      }
      String browserId = parts[2];
      String token = parts[3];
      boolean version = parts.length >= 6 && parts[4].equals("json") && parts[5].equals("version");
      boolean socket = parts.length == 4 || parts.length == 5 && parts[4].equals("browser");
      if (!version && !socket) {
        reply(ctx, request, HttpResponseStatus.NOT_FOUND, Map.of("error", "not a DevTools endpoint of this host"));
        return;
      }
      Optional<Attach> attach = resolver.resolve(browserId, token);
      if (attach.isEmpty()) {
        // One answer for a wrong token, another tenant's, and a closed browser: nothing to tell them apart.
        reply(ctx, request, HttpResponseStatus.FORBIDDEN,
            Map.of("error", "no open browser with this id and token (BROWSER_NOT_FOUND or BROWSER_CLOSED)"));
        return;
      }
      if (version) {
        reply(ctx, request, HttpResponseStatus.OK, Map.of("Browser", "Paddock/Chromium", "Protocol-Version", "1.3",
            "webSocketDebuggerUrl", wsUrl(browserId, token)));
        return;
      }
      WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory("ws://" + host + path, null, false,
          MAX_MESSAGE_BYTES).newHandshaker(request);
      if (handshaker == null) {
        WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
        return;
      }
      Channel channel = ctx.channel();
      handshaker.handshake(channel, request).addListener((ChannelFutureListener) f -> {
        if (!f.isSuccess()) {
          channel.close();
          return;
        }
        ctx.pipeline().replace(this, "devtools-socket", new SocketHandler(attach.get(), channel));
        ctx.pipeline().addBefore("devtools-socket", "frames", new WebSocketFrameAggregator(MAX_MESSAGE_BYTES));
      });
    }

    private void reply(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, Map<String, String> body) {
      byte[] bytes;
      try {
        bytes = JSON.writeValueAsBytes(body);
      } catch (java.io.IOException e) {
        bytes = new byte[0];
      }
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=UTF-8");
      HttpUtil.setContentLength(response, bytes.length);
      boolean keepAlive = HttpUtil.isKeepAlive(request) && status == HttpResponseStatus.OK;
      HttpUtil.setKeepAlive(response, keepAlive);
      var written = ctx.writeAndFlush(response);
      if (!keepAlive) {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }
  }

  /** One client's socket, relayed to its browser's DevTools connection. */
  private static final class SocketHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final CdpConnection.Client client;
    private final Channel channel;

    SocketHandler(Attach attach, Channel channel) {
      this.channel = channel;
      this.client = attach.connection().attachClient(
          message -> channel.writeAndFlush(new TextWebSocketFrame(message)),
          why -> channel.writeAndFlush(new CloseWebSocketFrame(BROWSER_CLOSED, truncate("BROWSER_CLOSED: " + why)))
              .addListener(ChannelFutureListener.CLOSE));
      attach.recordAttached().run();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      if (frame instanceof TextWebSocketFrame text) {
        client.send(text.text());
      } else if (frame instanceof CloseWebSocketFrame) {
        ctx.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
      }
      // pings are answered by Netty's protocol handler; binary frames are not CDP
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      client.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("a DevTools client's socket failed", cause);
      ctx.close();
    }

    /** A close reason fits in 123 bytes. */
    private static String truncate(String why) {
      byte[] b = why.getBytes(StandardCharsets.UTF_8);
      return b.length <= 120 ? why : new String(b, 0, 120, StandardCharsets.UTF_8);
    }
  }
}

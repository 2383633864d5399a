package dev.paddock.runtime.session;

import dev.paddock.runtime.errors.PaddockException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Paging of the list calls (ListSessions, ListExecs): items in order of (time, id), and an opaque
 * page token that is the sort key of the last item returned, so a page resumes right after it
 * even when items came or went in between.
 */
final class PageTokens {
  private static final String KEY = "\\d{20}\\.\\d{9}/";

  private PageTokens() {}

  /** One page of items and the token of the next ("" when this is the last). */
  record Paged<T>(List<T> items, String nextPageToken) {}

  /**
   * The page of {@code items} (any order) that {@code include} keeps, after the item the token
   * names, at most {@code size} of them.
   *
   * @param idPrefix the id prefix of these items ("ses", "exe"), which a token must carry
   * @param call     the list call, for the error of a token it did not make
   */
  static <T> Paged<T> page(List<T> items, Function<T, Instant> time, Function<T, String> id, Predicate<T> include,
      String token, int size, String idPrefix, String call) {
    String after = decode(token, idPrefix, call);
    Function<T, String> key = t -> key(time.apply(t), id.apply(t));
    List<T> sorted = new ArrayList<>(items);
    sorted.sort(Comparator.comparing(key));
    List<T> page = new ArrayList<>();
    for (T t : sorted) {
      if ((after != null && key.apply(t).compareTo(after) <= 0) || !include.test(t)) {
        continue;
      }
      if (page.size() == size) {
        return new Paged<>(page, encode(key.apply(page.get(page.size() - 1))));
      }
      page.add(t);
    }
    return new Paged<>(page, "");
  }

  private static String key(Instant time, String id) {
    return String.format("%020d.%09d/%s", time.getEpochSecond(), time.getNano(), id);
  }

  private static String encode(String key) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String token, String idPrefix, String call) {
    if (token == null || token.isEmpty()) {
      return null;
    }
    try {
      String key = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (Pattern.matches(KEY + idPrefix + "_[0-9a-f]{32}", key)) {
        return key;
      }
    } catch (IllegalArgumentException e) {
      // not base64: refused below
    }
    throw new PaddockException.InvalidArgument("page_token", "is not a token from a previous " + call + " answer");
  }
}

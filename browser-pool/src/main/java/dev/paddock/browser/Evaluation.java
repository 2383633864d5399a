package dev.paddock.browser;

/**
 * What a script evaluated to.
 *
 * @param resultJson its value as JSON; "" when it has none that JSON can hold (undefined, a
 *                   function, a DOM node) or it threw
 * @param exception  the exception's text when it threw, else ""
 */
public record Evaluation(String resultJson, String exception) {}

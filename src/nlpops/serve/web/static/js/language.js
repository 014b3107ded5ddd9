/* Which language the model reads, and a warning when a line of the text box looks like another one. */
"use strict";

window.nlpopsLanguage = (() => {
  const { config, t } = window.nlpops;
  // Frequent function words of each language. Words common in English text ("a", "in", "me", "no",
  // "so", "an", "as", "do", "come", "per", "son", "plus", "pour", "war") are left out of the others,
  // so that English is not mistaken for them; the words several languages share count for each.
  const STOP_WORDS = {
    en: "the and is are was were i you he she it we they my your his this that with for of to at not but be " +
      "have has had does did what just very from been would can all about there their our will don",
    fr: "le la les des du un une et est je j tu il elle nous vous ils elles ce cette c qui que qu pas ne n au " +
      "aux avec dans mais ou très mon ma mes sa ses l d de été suis sont ai rien jamais était être leur sur " +
      "ça moi tout merci en",
    es: "el la los las de del y que en un una es por con para muy pero lo su sus se al como más este esta " +
      "yo mi tu está fue hay todo nada gracias también porque",
    de: "der die das und ist nicht ich du er sie wir ihr es ein eine einen mit auf für von zu den dem des " +
      "sich auch aber noch nur sehr sind wie bei nach wenn mein kein danke",
    it: "il lo la gli le di del della che è e non un una sono mi ti ci con ma anche questo questa molto ho " +
      "hai nel alla tutto grazie perché",
    pt: "o os de da dos das e em um uma é não que com para por mais muito mas eu você ele ela nós meu minha " +
      "seu sua isso este esta foi tem está obrigado obrigada",
  };
  const WORDS = Object.fromEntries(Object.entries(STOP_WORDS).map(([code, list]) => [code, new Set(list.split(" "))]));
  const TOKEN = /[\p{L}\p{M}]+/gu; // letters only: "c’est" is "c" + "est", as elisions split
  const MIN_HITS = 2; // fewer function words than this: too little to tell
  const MARGIN = 2; // the winner needs this many times the runner-up's count

  /** The language `text` looks like written in (a code of STOP_WORDS), or null when it is not clear. */
  function guess(text) {
    const tokens = text.toLowerCase().match(TOKEN) || [];
    const ranked = Object.entries(WORDS)
      .map(([code, words]) => [code, tokens.filter((w) => words.has(w)).length])
      .sort((a, b) => b[1] - a[1]);
    const [[best, hits], [, second]] = ranked;
    return hits >= MIN_HITS && hits >= MARGIN * second ? best : null;
  }

  const names = new Intl.DisplayNames([config.lang], { type: "language" });
  const nameOf = (code) => names.of(code) || code;
  const joined = (codes) => new Intl.ListFormat(config.lang, { type: "conjunction" }).format(codes.map(nameOf));
  const reads = config.model_language.codes;

  /** What the page says of the model's language, and where that comes from. */
  function describeModel() {
    const { source } = config.model_language;
    if (source === "settings") return t("model_reads", { languages: joined(reads) });
    if (source === "labels") return t("model_reads_assumed", { languages: joined(reads) });
    return t("model_language_unknown");
  }

  /** A warning for the lines of `value` that look like a language the model does not read; "" if none. */
  function warningFor(value) {
    if (!reads.length) return ""; // nothing is known to compare with
    const lines = value.split(/\r?\n/);
    const foreign = new Map(); // language code -> line numbers, from 1
    lines.forEach((line, i) => {
      const code = guess(line);
      if (code && !reads.includes(code)) foreign.set(code, [...(foreign.get(code) || []), i + 1]);
    });
    const single = lines.filter((line) => line.trim()).length === 1;
    const model = joined(reads);
    return [...foreign].map(([code, numbers]) => {
      const values = { text_lang: nameOf(code), model_lang: model, lines: numbers.join(", "), line: numbers[0] };
      if (single) return t("looks_foreign_text", values);
      return t(numbers.length === 1 ? "looks_foreign_line" : "looks_foreign_lines", values);
    }).join(" ");
  }

  const notice = document.getElementById("model-language");
  const warning = document.getElementById("language-warning");
  const box = document.getElementById("texts");
  if (notice && box && config.classes.length) {
    notice.textContent = describeModel();
    notice.hidden = false;
    const update = () => {
      const message = warningFor(box.value);
      if (warning.textContent !== message) warning.textContent = message;
      warning.hidden = !message;
    };
    box.addEventListener("input", update);
    update(); // a text the browser restored (back, reload) is checked too
  }
  return { guess, warningFor };
})();

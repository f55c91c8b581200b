/* Live checks of a settlement sheet's amounts on the claim form (the server's
 * claims.services._validate stays authoritative; this only tells the clerk early).
 * Amounts are handled as integer fen, never as floating-point yuan. */
(function () {
  "use strict";
  var FIELDS = ["total", "out_of_catalog", "class_b_copay", "compliant", "tcm_compliant",
                "special_drug", "drug_class_a", "drug_class_b", "class_b_items",
                "out_of_catalog_controlled"];

  function input(name) { return document.getElementById("id_" + name); }

  function label(name) {
    var el = document.querySelector('label[for="id_' + name + '"]');
    return el ? el.textContent.replace(/[:：]\s*$/, "") : name;
  }

  /* "1,234.5" -> 123450 fen; "" -> null; not a number -> NaN */
  function fen(name) {
    var el = input(name);
    if (!el) { return null; }
    var text = el.value.replace(/[,，\s]/g, "");
    if (text === "") { return null; }
    var m = /^(-?)(\d+)(?:\.(\d{0,2}))?$/.exec(text);
    if (!m) { return NaN; }
    var cents = parseInt(m[2], 10) * 100 + parseInt(((m[3] || "") + "00").slice(0, 2), 10);
    return m[1] ? -cents : cents;
  }

  function yuan(cents) {
    var sign = cents < 0 ? "-" : "";
    cents = Math.abs(cents);
    return sign + Math.floor(cents / 100) + "." + ("0" + (cents % 100)).slice(-2);
  }

  function note(name, text) {
    var el = input(name);
    if (!el) { return; }
    var id = "live-check-" + name;
    var box = document.getElementById(id);
    if (!box) {
      box = document.createElement("div");
      box.id = id;
      box.className = "live-check";
      box.setAttribute("role", "status");
      el.parentNode.appendChild(box);
    }
    box.textContent = text || "";
    box.style.display = text ? "block" : "none";
    box.classList.toggle("live-check-error", !!text && text.indexOf("合规费用将为") !== 0);
  }

  function check() {
    var v = {};
    FIELDS.forEach(function (name) {
      v[name] = fen(name);
      note(name, "");
      if (v[name] !== null && isNaN(v[name])) {
        note(name, "“" + label(name) + "”不是金额（最多两位小数）");
      } else if (v[name] !== null && v[name] < 0) {
        note(name, "“" + label(name) + "”不能为负数");
      }
    });
    var z = function (x) { return x === null || isNaN(x) ? 0 : x; };
    if (v.total === null || isNaN(v.total)) { return; }
    var derived = v.total - z(v.out_of_catalog) - z(v.class_b_copay);
    var compliant = v.compliant === null || isNaN(v.compliant) ? derived : v.compliant;
    if (derived < 0) {
      note("out_of_catalog", "全自费 + 乙类先行自付 超过医疗总费用 " + yuan(v.total));
    } else if (v.compliant === null) {
      note("compliant", "合规费用将为 " + yuan(derived) + "（医疗总费用 − 全自费 − 乙类先行自付）");
    } else if (v.compliant !== derived) {
      note("compliant", "合规费用 " + yuan(v.compliant) + " 不等于 医疗总费用 − 全自费 − 乙类先行自付 = " + yuan(derived));
    }
    if (z(v.tcm_compliant) > compliant) {
      note("tcm_compliant", "中医药合规费用不能超过合规费用 " + yuan(compliant));
    }
    if (z(v.special_drug) > v.total) {
      note("special_drug", "特药费用不能超过医疗总费用 " + yuan(v.total));
    }
    if (z(v.drug_class_a) + z(v.drug_class_b) > compliant) {
      note("drug_class_b", "甲乙类药品费用之和不能超过合规费用 " + yuan(compliant));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!input("total")) { return; }
    FIELDS.forEach(function (name) {
      var el = input(name);
      if (el) { el.addEventListener("input", check); }
    });
    check();
  });
})();

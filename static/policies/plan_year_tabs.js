/* Plan-year page (policies admin): one tab per rule table (docs/admin-layout.md).
 *
 * The tab bar is rendered by templates/admin/policies/planyear_change_form.html: a link
 * "#<panel id>" per panel (the plan year's own fields, then each inline group), marked
 * "has-error" when the server found an error in it. This script shows one panel at a
 * time; the others stay in the form (hidden, not removed), so saving still sends every
 * table. The open tab is kept in the address (#…), so a reload or a link opens it again;
 * after a failed save the first tab with an error is opened. Local file, no CDN.
 */
'use strict';
{
    function init() {
        const nav = document.querySelector('.rule-tabs');
        if (!nav) {
            return;
        }
        const links = Array.from(nav.querySelectorAll('a[href^="#"]'));
        const panels = links.map((link) => document.getElementById(link.hash.slice(1)));
        if (panels.some((panel) => panel === null)) {
            return;  // a tab without its table: leave the page as it is
        }

        function show(index, remember) {
            links.forEach((link, i) => {
                const selected = i === index;
                link.classList.toggle('selected', selected);
                link.setAttribute('aria-selected', selected ? 'true' : 'false');
                panels[i].classList.toggle('rule-tab-hidden', !selected);
            });
            if (remember) {
                history.replaceState(null, '', links[index].hash);
            }
        }

        links.forEach((link, i) => {
            link.setAttribute('role', 'tab');
            link.setAttribute('aria-controls', panels[i].id);
            panels[i].setAttribute('role', 'tabpanel');
            panels[i].classList.add('rule-tab-panel');
            link.addEventListener('click', (event) => {
                event.preventDefault();
                show(i, true);
            });
        });
        nav.querySelector('ul').setAttribute('role', 'tablist');

        let index = links.findIndex((link) => link.hash === window.location.hash);
        const firstError = links.findIndex((link) => link.classList.contains('has-error'));
        if (firstError >= 0 && (index < 0 || !links[index].classList.contains('has-error'))) {
            index = firstError;
        }
        nav.classList.add('rule-tabs-ready');
        show(Math.max(index, 0), firstError >= 0);
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', init);
    } else {
        init();
    }
}

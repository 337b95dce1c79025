// Accessible tabs (WAI-ARIA tab pattern): arrow keys, Home/End, lazy panels.
import { h } from './dom';

export interface TabSpec {
  id: string;
  label: string;
  panel: HTMLElement;
  /** Called every time the tab is shown (load data lazily here). */
  onShow?: () => void;
}

export interface Tabs {
  element: HTMLElement;
  select: (id: string, focus?: boolean) => void;
}

export function tabs(
  specs: TabSpec[],
  options: { label: string; initial?: string; onChange?: (id: string) => void },
): Tabs {
  const buttons: HTMLButtonElement[] = [];
  const panels = specs.map((spec) =>
    h('div', {
      role: 'tabpanel', id: `panel-${spec.id}`, 'aria-labelledby': `tab-${spec.id}`, tabindex: '0',
      class: 'tab-panel', testid: `panel-${spec.id}`,
    }, spec.panel));
  let current = -1;
  const selectIndex = (index: number, focus = false) => {
    const changed = index !== current;
    current = index;
    buttons.forEach((b, i) => {
      b.setAttribute('aria-selected', String(i === index));
      b.tabIndex = i === index ? 0 : -1;
      const panel = panels[i];
      if (panel) panel.hidden = i !== index;
    });
    const active = buttons[index];
    const list = active?.parentElement;
    if (active && list && list.scrollWidth > list.clientWidth) {
      // Keep the chosen tab in view when the tab strip scrolls (phones).
      const left = active.offsetLeft - list.offsetLeft;
      if (left < list.scrollLeft || left + active.offsetWidth > list.scrollLeft + list.clientWidth) {
        list.scrollLeft = Math.max(0, left - 24);
      }
    }
    if (focus) active?.focus();
    const spec = specs[index];
    if (spec && changed) {
      options.onChange?.(spec.id);
      spec.onShow?.();
    }
  };
  specs.forEach((spec, i) => {
    buttons.push(h('button', {
      type: 'button', role: 'tab', id: `tab-${spec.id}`, 'aria-controls': `panel-${spec.id}`, class: 'tab',
      testid: `tab-${spec.id}`,
      onclick: () => selectIndex(i),
      onkeydown: (e: KeyboardEvent) => {
        let next = -1;
        if (e.key === 'ArrowRight') next = (i + 1) % specs.length;
        if (e.key === 'ArrowLeft') next = (i + specs.length - 1) % specs.length;
        if (e.key === 'Home') next = 0;
        if (e.key === 'End') next = specs.length - 1;
        if (next >= 0) {
          e.preventDefault();
          selectIndex(next, true);
        }
      },
    }, spec.label));
  });
  const element = h('div', { class: 'tabs-wrap' },
    h('div', { class: 'tabs', role: 'tablist', 'aria-label': options.label }, buttons),
    panels);
  const select = (id: string, focus = false) => {
    const index = specs.findIndex((s) => s.id === id);
    selectIndex(index >= 0 ? index : 0, focus);
  };
  select(options.initial ?? specs[0]?.id ?? '');
  return { element, select };
}

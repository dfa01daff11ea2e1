/**
 * What the widgets of a cached result shown whole or for one class share (corner cases, directions,
 * ranking): the `class` attribute (empty: all classes), and the classifier's title and the class
 * shown in the heading, cleared when a load starts and set by a successful one only, so nothing of
 * an earlier classifier or class stays in the heading when a load fails.
 */
import type { PropertyDeclarations } from 'lit';
import { classifierTitle, intAttribute } from './api.js';
import { FaultlinesElement } from './base.js';

export abstract class ClassViewElement extends FaultlinesElement {
  static override properties: PropertyDeclarations = { ...FaultlinesElement.properties, class: { type: String } };

  declare class: string;
  /** The title of the classifier shown ('' before a successful load). */
  protected classifierName = '';
  /** The class shown (null: all); set by a successful load only. */
  protected shownClass: number | null = null;

  constructor() {
    super();
    this.class = '';
  }

  protected loadKey(): string {
    return `${this.classifier}|${this.class}`;
  }

  /** At the start of a load: forgets what was shown, and reads the `class` attribute (null: all). */
  protected startLoad(): number | null {
    this.classifierName = '';
    this.shownClass = null;
    return intAttribute('class', this.class, 0, 9999);
  }

  /** After a successful load: the classifier (its name in the reply) and the class shown. */
  protected loaded(classifier: string, cls: number | null): void {
    this.classifierName = classifierTitle(classifier);
    this.shownClass = cls;
  }
}

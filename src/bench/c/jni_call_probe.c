/* The native side of JniCallProbe.java (build and run: see there). */
#include <jni.h>

JNIEXPORT void JNICALL Java_JniCallProbe_empty(JNIEnv *env, jclass cls) { (void)env; (void)cls; }

JNIEXPORT jfloat JNICALL Java_JniCallProbe_pin(JNIEnv *env, jclass cls, jfloatArray h, jfloatArray g) {
  (void)cls;
  jfloat *ph = (*env)->GetPrimitiveArrayCritical(env, h, 0);
  jfloat *pg = (*env)->GetPrimitiveArrayCritical(env, g, 0);
  pg[0] = ph[0] + 1.0f;
  jfloat r = pg[0];
  (*env)->ReleasePrimitiveArrayCritical(env, g, pg, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, h, ph, JNI_ABORT);
  return r;
}

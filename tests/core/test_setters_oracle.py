"""Comment placement and re-serialisation against yaml.v3 on generated, comment-heavy manifests.

Each expected text was written by go.yaml.in/yaml/v3 v3.0.4 running kyaml's setter steps (the
harness that reproduces the controller fixtures) on the input: comments at every indentation,
blank lines, trailing comments, markers at the end of lines and above entries.
"""

from __future__ import annotations

import pytest

from lab.core.refs import ImageRef
from lab.core.setters import rewrite

SETTERS = {
    "flux-system:nginx": ImageRef("library/nginx", "1.25.3"),
    "flux-system:calver": ImageRef("example.com/calver", "2024.10"),
}

CASES = {
    "base0-0": (
        r"""# c0
apiVersion: apps/v1 # t0
kind: StatefulSet
# c2
# d2
metadata: # k2

    name: db
spec:
    # c5
    template:
        spec:
            initContainers: # {"$imagepolicy": "flux-system:nginx"}

            -   name: init
                image: busybox # {"$imagepolicy": "flux-system:nginx"}

                command:
# c11
# d11
                -   sh

                -   -c # t12
            containers:
              - name: db
                image: postgres:16
                volumeMounts:
                  - name: data

                    mountPath: /var/lib
    volumeClaimTemplates:
    -   metadata:
            name: data # t21
        spec: # {"$imagepolicy": "flux-system:nginx"}
            accessModes: ["ReadWriteOnce"]

""",
        r"""# c0
apiVersion: apps/v1 # t0
kind: StatefulSet
# c2
# d2
metadata: # k2
  name: db
spec:
  # c5
  template:
    spec:
      initContainers: # {"$imagepolicy": "flux-system:nginx"}
      - name: init
        image: library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}
        command:
        # c11
        # d11
        - sh
        - -c # t12
      containers:
      - name: db
        image: postgres:16
        volumeMounts:
        - name: data
          mountPath: /var/lib
  volumeClaimTemplates:
  - metadata:
      name: data # t21
    spec: # {"$imagepolicy": "flux-system:nginx"}
      accessModes: ["ReadWriteOnce"]
""",
    ),
    "base0-1": (
        r"""# c0
apiVersion: apps/v1 # {"$imagepolicy": "flux-system:nginx"}
# c1
kind: StatefulSet
metadata:
    name: db
# c4
# d4
spec:

    template:
        # c6
        spec:
            initContainers:

            -   name: init
                # c9
                # d9
                # {"$imagepolicy": "flux-system:nginx:tag"}
                image: busybox
                # c10
                # {"$imagepolicy": "flux-system:nginx:tag"}
                command:
                -   sh

                -   -c # t12
            containers:
# c14
# d14
              - name: db
                image: postgres:16 # t15
                volumeMounts: #{"$imagepolicy":"flux-system:calver:tag"}
                # c17
                  - name: data # {"$imagepolicy": "flux-system:nginx:tag"}
                    mountPath: /var/lib # t18
    volumeClaimTemplates: #{"$imagepolicy":"flux-system:calver:tag"}
    -   metadata:
            # c21
            name: data

        spec:
            accessModes: ["ReadWriteOnce"]
    # end
""",
        r"""# c0
apiVersion: library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}
# c1
kind: StatefulSet
metadata:
  name: db
# c4
# d4
spec:
  template:
    # c6
    spec:
      initContainers:
      - name: init
        # c9
        # d9
        # {"$imagepolicy": "flux-system:nginx:tag"}
        image: busybox
        # c10
        # {"$imagepolicy": "flux-system:nginx:tag"}
        command:
        - sh
        - -c # t12
      containers:
      # c14
      # d14
      - name: db
        image: postgres:16 # t15
        volumeMounts: #{"$imagepolicy":"flux-system:calver:tag"}
        # c17
        - name: 1.25.3 # {"$imagepolicy": "flux-system:nginx:tag"}
          mountPath: /var/lib # t18
  volumeClaimTemplates: #{"$imagepolicy":"flux-system:calver:tag"}
  - metadata:
      # c21
      name: data
    spec:
      accessModes: ["ReadWriteOnce"]
  # end
""",
    ),
    "base0-2": (
        r"""apiVersion: apps/v1 # t0
kind: StatefulSet
# c2
# d2
metadata: # k2
    name: db
# {"$imagepolicy": "flux-system:nginx"}
spec: # k4

    #{"$imagepolicy":"flux-system:calver:tag"}
    template:
        spec: #{"$imagepolicy":"flux-system:calver:tag"}
            initContainers: #{"$imagepolicy":"flux-system:calver:tag"}
            -   name: init
                image: busybox
# c10
                command:
                # c11
                -   sh # {"$imagepolicy": "flux-system:nginx:tag"}
                -   -c
            # c13
            containers:
              - name: db
                image: postgres:16 # k15
                # {"$imagepolicy": "flux-system:nginx"}
                volumeMounts:
                  - name: data
                  # c18
                    mountPath: /var/lib
    volumeClaimTemplates:
    -   metadata:
            # c21
            # d21
            name: data # t21
            # c22
        spec:
            accessModes: ["ReadWriteOnce"]
""",
        r"""apiVersion: apps/v1 # t0
kind: StatefulSet
# c2
# d2
metadata: # k2
  name: db
# {"$imagepolicy": "flux-system:nginx"}
spec: # k4
  #{"$imagepolicy":"flux-system:calver:tag"}
  template:
    spec: #{"$imagepolicy":"flux-system:calver:tag"}
      initContainers: #{"$imagepolicy":"flux-system:calver:tag"}
      - name: init
        image: busybox
        # c10
        command:
        # c11
        - 1.25.3 # {"$imagepolicy": "flux-system:nginx:tag"}
        - -c
      # c13
      containers:
      - name: db
        image: postgres:16 # k15
        # {"$imagepolicy": "flux-system:nginx"}
        volumeMounts:
        - name: data
          # c18
          mountPath: /var/lib
  volumeClaimTemplates:
  - metadata:
      # c21
      # d21
      name: data # t21
      # c22
    spec:
      accessModes: ["ReadWriteOnce"]
""",
    ),
    "base1-0": (
        r"""
apiVersion: v1 # t0
kind: ConfigMap # k1
metadata: # {"$imagepolicy": "flux-system:nginx"}
    name: cfg # t3

    annotations: {}
# {"$imagepolicy": "flux-system:nginx:tag"}
data:
    script: | # t6
        echo hi
        # not a comment
    # c9
    folded: >-
        a b
        c # k11
    quoted: "x: y" # k12
    single: 'it''s'
    flow: {a: 1, b: [x, y]}

    list: [1, 2, 3] #{"$imagepolicy":"flux-system:calver:tag"}
    empty:
    anchored: &anc value
    # c18
    alias: *anc # t18
    # c19
    nested:
        -   a: 1 # t20
            b: 2 # k21
        -   - x # t22
# c23
# d23
            - y
# c24
--- #{"$imagepolicy":"flux-system:calver:tag"}
apiVersion: v1
kind: Secret
metadata:
  # c28
  name: s # {"$imagepolicy": "flux-system:nginx:tag"}
# c29
stringData:
  # c30
  k: v # {"$imagepolicy": "flux-system:nginx:tag"}
""",
        r"""apiVersion: v1 # t0
kind: ConfigMap # k1
metadata: # {"$imagepolicy": "flux-system:nginx"}
  name: cfg # t3
# {"$imagepolicy": "flux-system:nginx:tag"}
data:
  script: | # t6
    echo hi
    # not a comment
  # c9
  folded: >-
    a b c # k11
  quoted: "x: y" # k12
  single: 'it''s'
  flow: {a: 1, b: [x, y]}
  list: [1, 2, 3] #{"$imagepolicy":"flux-system:calver:tag"}
  empty:
  anchored: &anc value
  # c18
  alias: *anc # t18
  # c19
  nested:
  - a: 1 # t20
    b: 2 # k21
  - - x # t22
    # c23
    # d23
    - y
# c24
---
apiVersion: v1
kind: Secret
metadata:
  # c28
  name: 1.25.3 # {"$imagepolicy": "flux-system:nginx:tag"}
# c29
stringData:
  # c30
  k: 1.25.3 # {"$imagepolicy": "flux-system:nginx:tag"}
""",
    ),
    "base1-1": (
        r"""# c0
apiVersion: v1
# c1
kind: ConfigMap
# c2
# d2
metadata:
    name: cfg

    annotations: {} # t4
data: # {"$imagepolicy": "flux-system:nginx"}
    script: |
        echo hi
        # not a comment

    folded: >- # t9
        a b
        c # t11

    quoted: "x: y" # k12
    single: 'it''s' # t13
    # c14
    # d14
    flow: {a: 1, b: [x, y]} # t14
# c15
    list: [1, 2, 3] # t15
    empty:
    anchored: &anc value # {"$imagepolicy": "flux-system:nginx"}
    alias: *anc
    #{"$imagepolicy":"flux-system:calver:tag"}
    nested: # k19
        # c20
        # d20
        -   a: 1 # t20
            # c21
            b: 2
        -   - x
            # c23
            - y

--- # t24
apiVersion: v1 # {"$imagepolicy": "flux-system:nginx"}
kind: Secret
metadata:
  name: s # t28
# c29
stringData:
# c30
# d30
  #{"$imagepolicy":"flux-system:calver:tag"}
  k: v # t30

  # end
""",
        r"""# c0
apiVersion: v1
# c1
kind: ConfigMap
# c2
# d2
metadata:
  name: cfg
data: # {"$imagepolicy": "flux-system:nginx"}
  script: |
    echo hi
    # not a comment
  folded: >- # t9
    a b c # t11
  quoted: "x: y" # k12
  single: 'it''s' # t13
  # c14
  # d14
  flow: {a: 1, b: [x, y]} # t14
  # c15
  list: [1, 2, 3] # t15
  empty:
  anchored: &anc library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}
  alias: *anc
  #{"$imagepolicy":"flux-system:calver:tag"}
  nested: # k19
  # c20
  # d20
  - a: 1 # t20
    # c21
    b: 2
  - - x
    # c23
    - y
---
apiVersion: library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}
kind: Secret
metadata:
  name: s # t28
# c29
stringData:
  # c30
  # d30
  #{"$imagepolicy":"flux-system:calver:tag"}
  k: v # t30

# end
""",
    ),
    "base1-2": (
        r"""apiVersion: v1 # t0
kind: ConfigMap
metadata:
    # c3
    name: cfg # t3
    # c4
    # d4
    annotations: {}
data:
    script: | # t6

        echo hi
        # not a comment
    folded: >-
        a b # {"$imagepolicy": "flux-system:nginx"}
        c # t11
    # c12
    quoted: "x: y"

    single: 'it''s'
    flow: {a: 1, b: [x, y]}
    list: [1, 2, 3]
    empty:
    anchored: &anc value #{"$imagepolicy":"flux-system:calver:tag"}
    # c18
    alias: *anc
    nested:
        -   a: 1
            b: 2 # {"$imagepolicy": "flux-system:nginx:tag"}
        -   - x
            - y # k23

---
apiVersion: v1 #{"$imagepolicy":"flux-system:calver:tag"}

kind: Secret # t26
# {"$imagepolicy": "flux-system:nginx"}
metadata:
  name: s
stringData: # k29
  k: v # t30
    # end
""",
        r"""apiVersion: v1 # t0
kind: ConfigMap
metadata:
  # c3
  name: cfg # t3
data:
  script: |2 # t6

    echo hi
    # not a comment
  folded: >-
    a b # {"$imagepolicy": "flux-system:nginx"} c # t11
  # c12
  quoted: "x: y"
  single: 'it''s'
  flow: {a: 1, b: [x, y]}
  list: [1, 2, 3]
  empty:
  anchored: &anc "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
  # c18
  alias: *anc
  nested:
  - a: 1
    b: !!int 1.25.3 # {"$imagepolicy": "flux-system:nginx:tag"}
  - - x
    - y # k23
---
apiVersion: "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
kind: Secret # t26
# {"$imagepolicy": "flux-system:nginx"}
metadata:
  name: s
stringData: # k29
  k: v # t30
  # end
""",
    ),
    "base2-0": (
        r"""# header # t0
# c1
# d1
defaults: &defaults # t1
  # c2
  # d2
  image: nginx:1.25.0
  pullPolicy: IfNotPresent
prod: # k4
  # c5
  <<: *defaults
  replicas: 3
matrix:

  - os: linux
    arch:
      - amd64 # {"$imagepolicy": "flux-system:nginx"}
      # c11
      - arm64
  - os: windows #{"$imagepolicy":"flux-system:calver:tag"}

    arch: [amd64] # t13
# c14
# d14
notes: "multi
  line" # t15
tail: end #{"$imagepolicy":"flux-system:calver:tag"}
""",
        r"""# header # t0
# c1
# d1
defaults: &defaults
  # c2
  # d2
  image: nginx:1.25.0 # t1
  pullPolicy: IfNotPresent
prod: # k4
  # c5
  !!merge <<: *defaults
  replicas: 3
matrix:
  - os: linux
    arch:
      - library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}
      # c11
      - arm64
  - os: "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
    arch: [amd64] # t13
# c14
# d14
notes: "multi line" # t15
tail: "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
""",
    ),
    "base2-1": (
        r"""# c0
# header # t0
defaults: &defaults # t1
  image: nginx:1.25.0
  # c3
  pullPolicy: IfNotPresent
prod:
  <<: *defaults
  replicas: 3 # {"$imagepolicy": "flux-system:nginx"}
matrix:
  - os: linux
    arch:
      # c10
      # d10
      - amd64 # t10

      - arm64 # {"$imagepolicy": "flux-system:nginx:tag"}
  # c12
  - os: windows # k12
# c13
    arch: [amd64]
# c14
# d14
notes: "multi
  line"
# c16
# d16
tail: end # t16
""",
        r"""# c0
# header # t0
defaults: &defaults
  image: nginx:1.25.0 # t1
  # c3
  pullPolicy: IfNotPresent
prod:
  !!merge <<: *defaults
  replicas: !!int library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}
matrix:
  - os: linux
    arch:
      # c10
      # d10
      - amd64 # t10
      - 1.25.3 # {"$imagepolicy": "flux-system:nginx:tag"}
  # c12
  - os: windows # k12
    # c13
    arch: [amd64]
# c14
# d14
notes: "multi line"
# c16
# d16
tail: end # t16
""",
    ),
    "base2-2": (
        r"""# header
defaults: &defaults # t1

  image: nginx:1.25.0
  # c3
  # d3
  pullPolicy: IfNotPresent
# c4
# d4
prod:

  <<: *defaults
  replicas: 3
matrix:
  # c8
  # d8
  - os: linux

    arch: # k9
      - amd64

      - arm64
  - os: windows # t12

    arch: [amd64] # t13
#{"$imagepolicy":"flux-system:calver:tag"}
notes: "multi

  line"
# c16
# d16
tail: end #{"$imagepolicy":"flux-system:calver:tag"}
# end
""",
        r"""# header
defaults: &defaults
  image: nginx:1.25.0 # t1
  # c3
  # d3
  pullPolicy: IfNotPresent
# c4
# d4
prod:
  !!merge <<: *defaults
  replicas: 3
matrix:
  # c8
  # d8
  - os: linux
    arch: # k9
      - amd64
      - arm64
  - os: windows # t12
    arch: [amd64] # t13
#{"$imagepolicy":"flux-system:calver:tag"}
notes: "multi\nline"
# c16
# d16
tail: "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
# end
""",
    ),
    "base3-0": (
        r"""
apiVersion: apps/v1
kind: Deployment # k1
metadata: # {"$imagepolicy": "flux-system:nginx:tag"}

  name: web
  # c4
  labels: # k4

    app: web
spec:
  replicas: 1 #{"$imagepolicy":"flux-system:calver:tag"}
  template:
    # c9
    spec:
      containers:
      # c11
        - name: web
          image: nginx:1.25.0
          # c13
          ports: # {"$imagepolicy": "flux-system:nginx:tag"}
            - containerPort: 80
          env:
          # c16
            - name: A # t16
              value: "1" # t17
        - name: side
          image: busybox
      # c20
      volumes: # k20
      # c21
      - name: data
        emptyDir: {}
status: {}
    # end
""",
        r"""apiVersion: apps/v1
kind: Deployment # k1
metadata: # {"$imagepolicy": "flux-system:nginx:tag"}
  name: web
  # c4
  labels: # k4
    app: web
spec:
  replicas: "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
  template:
    # c9
    spec:
      containers:
        # c11
        - name: web
          image: nginx:1.25.0
          # c13
          ports: # {"$imagepolicy": "flux-system:nginx:tag"}
            - containerPort: 80
          env:
            # c16
            - name: A # t16
              value: "1" # t17
        - name: side
          image: busybox
      # c20
      volumes: # k20
        # c21
        - name: data
          emptyDir: {}
status: {}
# end
""",
    ),
    "base3-1": (
        r"""apiVersion: apps/v1
kind: Deployment
# c2
metadata:

  name: web # k3
  labels:
    # c5
    app: web
spec:
  replicas: 1
  # c8
  template:
    spec:
      # c10
      containers:
        - name: web #{"$imagepolicy":"flux-system:calver:tag"}
          image: nginx:1.25.0
          ports:
            - containerPort: 80

          env: # k15
            - name: A #{"$imagepolicy":"flux-system:calver:tag"}
              value: "1"
        # c18
        - name: side
          image: busybox # t19
# c20
      volumes: # {"$imagepolicy": "flux-system:nginx:tag"}

      - name: data # t21

        emptyDir: {}
status: {}
""",
        r"""apiVersion: apps/v1
kind: Deployment
# c2
metadata:
  name: web # k3
  labels:
    # c5
    app: web
spec:
  replicas: 1
  # c8
  template:
    spec:
      # c10
      containers:
        - name: "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
          image: nginx:1.25.0
          ports:
            - containerPort: 80
          env: # k15
            - name: "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
              value: "1"
        # c18
        - name: side
          image: busybox # t19
          # c20
      volumes: # {"$imagepolicy": "flux-system:nginx:tag"}
        - name: data # t21
          emptyDir: {}
status: {}
""",
    ),
    "base3-2": (
        r"""apiVersion: apps/v1 # {"$imagepolicy": "flux-system:nginx"}
kind: Deployment # t1
metadata:
  #{"$imagepolicy":"flux-system:calver:tag"}
  name: web
  labels:

    app: web
spec: # k6
  # c7
  # d7
  replicas: 1
  template:
    spec:

      containers:
        # c11
        - name: web
          image: nginx:1.25.0
# c13
# d13
          ports:
            # c14
            # d14
            - containerPort: 80

          env:
            # c16
            - name: A
              # c17
              # d17
              value: "1"
        - name: side

          image: busybox # t19
      volumes:
      - name: data
        emptyDir: {} # t22
status: {}
""",
        r"""apiVersion: library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}
kind: Deployment # t1
metadata:
  #{"$imagepolicy":"flux-system:calver:tag"}
  name: web
  labels:
    app: web
spec: # k6
  # c7
  # d7
  replicas: 1
  template:
    spec:
      containers:
        # c11
        - name: web
          image: nginx:1.25.0
          # c13
          # d13
          ports:
            # c14
            # d14
            - containerPort: 80
          env:
            # c16
            - name: A
              # c17
              # d17
              value: "1"
        - name: side
          image: busybox # t19
      volumes:
        - name: data
          emptyDir: {} # t22
status: {}
""",
    ),
    "base4-0": (
        r"""
image:
  # c1
  # d1
  repository: nginx # t1
  tag: "1.25.0"
# c3
service:

  type: ClusterIP
  ports:
  - 80
  - 443 # t7
ingress:
  enabled: false
  hosts:

    - host: a.local # t11
      paths:
        - /

        # {"$imagepolicy": "flux-system:nginx"}
        - /api
resources:
  # c16
  # d16
  limits: # k16
    # c17
    cpu: 100m # k17
""",
        r"""image:
  # c1
  # d1
  repository: nginx # t1
  tag: "1.25.0"
# c3
service:
  type: ClusterIP
  ports:
  - 80
  - 443 # t7
ingress:
  enabled: false
  hosts:
  - host: a.local # t11
    paths:
    - /
    # {"$imagepolicy": "flux-system:nginx"}
    - library/nginx:1.25.3
resources:
  # c16
  # d16
  limits: # k16
    # c17
    cpu: 100m # k17
""",
    ),
    "base4-1": (
        r"""
image:
  # c1
  repository: nginx
  # c2
  tag: "1.25.0"
# c3
# d3
service:
  # c4
  type: ClusterIP

  ports:
  - 80 # t6
  # c7
  # d7
  - 443
ingress:
  # {"$imagepolicy": "flux-system:nginx:tag"}
  enabled: false
  hosts:
    - host: a.local
      paths:
        - / # {"$imagepolicy": "flux-system:nginx"}
        # c14
        - /api #{"$imagepolicy":"flux-system:calver:tag"}
# c15
resources: # {"$imagepolicy": "flux-system:nginx"}
  limits:
    # c17
    cpu: 100m # {"$imagepolicy": "flux-system:nginx:tag"}

# end
""",
        r"""image:
  # c1
  repository: nginx
  # c2
  tag: "1.25.0"
# c3
# d3
service:
  # c4
  type: ClusterIP
  ports:
  - 80 # t6
  # c7
  # d7
  - 443
ingress:
  # {"$imagepolicy": "flux-system:nginx:tag"}
  enabled: false
  hosts:
  - host: a.local
    paths:
    - library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}
    # c14
    - "2024.10" #{"$imagepolicy":"flux-system:calver:tag"}
# c15
resources: # {"$imagepolicy": "flux-system:nginx"}
  limits:
    # c17
    cpu: 1.25.3 # {"$imagepolicy": "flux-system:nginx:tag"}

# end
""",
    ),
    "base4-2": (
        r"""image:
  repository: nginx
  tag: "1.25.0"
service:
  # c4
  # d4
  type: ClusterIP
  # c5
  ports: # {"$imagepolicy": "flux-system:nginx:tag"}
  - 80
  - 443 # {"$imagepolicy": "flux-system:nginx:tag"}
# c8
ingress:
  enabled: false
  hosts:
    # c11
    - host: a.local
      paths:

        # {"$imagepolicy": "flux-system:nginx"}
        - /
        # c14
        #{"$imagepolicy":"flux-system:calver:tag"}
        - /api # t14
# c15
resources:
  limits:
    cpu: 100m

""",
        r"""image:
  repository: nginx
  tag: "1.25.0"
service:
  # c4
  # d4
  type: ClusterIP
  # c5
  ports: # {"$imagepolicy": "flux-system:nginx:tag"}
  - 80
  - !!int 1.25.3 # {"$imagepolicy": "flux-system:nginx:tag"}
# c8
ingress:
  enabled: false
  hosts:
  # c11
  - host: a.local
    paths:
    # {"$imagepolicy": "flux-system:nginx"}
    - library/nginx:1.25.3
    # c14
    #{"$imagepolicy":"flux-system:calver:tag"}
    - /api # t14
# c15
resources:
  limits:
    cpu: 100m
""",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_manifest_matches_yaml_v3(name: str) -> None:
    source, expected = CASES[name]
    result = rewrite(source.encode(), SETTERS, "flux-system", f"{name}.yaml")
    assert result.content is not None
    assert result.content.decode() == expected
